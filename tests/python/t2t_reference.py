"""Reference logits for the tests: T2T-ViT's forward pass (yitu-opensource/T2T-ViT, models/
t2t_vit.py, token_performer.py, token_transformer.py) written out with plain torch.nn.functional
calls on a state dict in that repository's layout, independent of vitc's C++ and Python model
code: soft splits (unfold), Performer or Transformer token attentions with their v skip
connection, the final projection, cls token + fixed position table, pre-norm ViT blocks
(LayerNorm eps 1e-5, as the repository's nn.LayerNorm), head on the cls token.

    python3 t2t_reference.py WEIGHTS.safetensors IMAGES.safetensors OUT.safetensors \
        --heads H --attn-scale S [--splits 7,4,2:3,2,1:3,2,1]
"""
import math

import torch
import torch.nn.functional as F

from reference_util import layer_norm, linear as lin, run_reference

EPS = 1e-5


def ln(x, w, p):
    return layer_norm(x, w, p, EPS)


def performer(x, w, p):
    """Token_performer: one head, positive random features exp(w^T x - |x|^2/2)/sqrt(m)."""
    x = ln(x, w, p + ".norm1")
    emb = w[p + ".proj.weight"].shape[0]
    k, q, v = lin(x, w, p + ".kqv").split(emb, dim=-1)
    rf = w[p + ".w"]  # [m, emb]
    m = rf.shape[0]

    def features(t):
        return torch.exp(t @ rf.t() - (t * t).sum(-1, keepdim=True) / 2) / math.sqrt(m)

    kp, qp = features(k), features(q)                       # [B, T, m]
    denom = (qp * kp.sum(1, keepdim=True)).sum(-1, keepdim=True)  # [B, T, 1]
    kptv = v.transpose(1, 2) @ kp                           # [B, emb, m]
    y = (qp @ kptv.transpose(1, 2)) / (denom + 1e-8)        # [B, T, emb]
    y = v + lin(y, w, p + ".proj")
    return y + mlp_seq(ln(y, w, p + ".norm2"), w, p + ".mlp")


def mlp_seq(x, w, p):
    return lin(F.gelu(lin(x, w, p + ".0")), w, p + ".2")


def token_transformer(x, w, p):
    """Token_transformer: one head over the split's full width, scale dim^-0.5, v skip."""
    dim = x.shape[-1]
    y = ln(x, w, p + ".norm1")
    emb = w[p + ".attn.proj.weight"].shape[0]
    q, k, v = lin(y, w, p + ".attn.qkv").split(emb, dim=-1)
    attn = ((q * dim ** -0.5) @ k.transpose(1, 2)).softmax(-1)
    y = v + lin(attn @ v, w, p + ".attn.proj")
    h = ln(y, w, p + ".norm2")
    return y + lin(F.gelu(lin(h, w, p + ".mlp.fc1")), w, p + ".mlp.fc2")


def t2t_forward(w, x, heads, attn_scale, splits):
    B = x.shape[0]
    stage = 1
    for i, (k, s, pad) in enumerate(splits):
        if i > 0:  # tokens back to a square map before the next split
            side = int(round(math.sqrt(x.shape[1])))
            x = x.transpose(1, 2).reshape(B, x.shape[2], side, side)
        x = F.unfold(x, kernel_size=k, stride=s, padding=pad).transpose(1, 2)
        if i + 1 < len(splits):
            p = f"tokens_to_token.attention{stage}"
            x = performer(x, w, p) if p + ".w" in w else token_transformer(x, w, p)
            stage += 1
    x = lin(x, w, "tokens_to_token.project")
    dim = x.shape[-1]
    x = torch.cat([w["cls_token"].expand(B, -1, -1), x], dim=1) + w["pos_embed"]
    N = x.shape[1]
    i = 0
    while f"blocks.{i}.attn.qkv.weight" in w:
        p = f"blocks.{i}."
        y = ln(x, w, p + "norm1")
        qkv = lin(y, w, p + "attn.qkv").reshape(B, N, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q @ k.transpose(-2, -1)) * attn_scale).softmax(-1)
        x = x + lin((attn @ v).transpose(1, 2).reshape(B, N, dim), w, p + "attn.proj")
        y = ln(x, w, p + "norm2")
        x = x + lin(F.gelu(lin(y, w, p + "mlp.fc1")), w, p + "mlp.fc2")
        i += 1
    x = ln(x, w, "norm")
    return lin(x[:, 0], w, "head")


def main():
    def add_arguments(parser):
        parser.add_argument("--heads", type=int, required=True)
        parser.add_argument("--attn-scale", type=float, required=True)
        parser.add_argument("--splits", default="7,4,2:3,2,1:3,2,1")

    def forward(w, images, args):
        splits = [tuple(int(v) for v in part.split(",")) for part in args.splits.split(":")]
        return t2t_forward(w, images, args.heads, args.attn_scale, splits)

    run_reference(forward, add_arguments)


if __name__ == "__main__":
    main()
