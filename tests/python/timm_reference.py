"""Reference logits for the tests: timm's VisionTransformer forward pass written out with plain
torch.nn.functional calls on a timm state dict (qkv rows split as timm does, GELU, pre-norm
blocks, DeiT's averaged heads, DeiT III's LayerScale and patch-only position embedding),
independent of vitc's C++ and Python model code.

    python3 timm_reference.py WEIGHTS.safetensors IMAGES.safetensors OUT.safetensors --heads H
"""
import torch
import torch.nn.functional as F

from reference_util import run_reference


def timm_forward(w, x, heads, eps=1e-6):
    patch = w["patch_embed.proj.weight"]
    dim = patch.shape[0]
    x = F.conv2d(x, patch, w["patch_embed.proj.bias"], stride=patch.shape[-1])
    x = x.flatten(2).transpose(1, 2)
    B = x.shape[0]
    prefix = [w["cls_token"].expand(B, -1, -1)]
    if "dist_token" in w:
        prefix.append(w["dist_token"].expand(B, -1, -1))
    if w["pos_embed"].shape[1] == x.shape[1]:  # no_embed_class (DeiT III): patches only
        x = torch.cat(prefix + [x + w["pos_embed"]], dim=1)
    else:
        x = torch.cat(prefix + [x], dim=1) + w["pos_embed"]
    N = x.shape[1]
    i = 0
    while f"blocks.{i}.attn.qkv.weight" in w:
        p = f"blocks.{i}."
        y = F.layer_norm(x, (dim,), w[p + "norm1.weight"], w[p + "norm1.bias"], eps)
        qkv = F.linear(y, w[p + "attn.qkv.weight"], w.get(p + "attn.qkv.bias"))
        qkv = qkv.reshape(B, N, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * (dim // heads) ** -0.5
        y = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, dim)
        y = F.linear(y, w[p + "attn.proj.weight"], w[p + "attn.proj.bias"])
        x = x + y * w.get(p + "ls1.gamma", 1.0)  # LayerScale (DeiT III) when present
        y = F.layer_norm(x, (dim,), w[p + "norm2.weight"], w[p + "norm2.bias"], eps)
        y = F.linear(F.gelu(F.linear(y, w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"])),
                     w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"])
        x = x + y * w.get(p + "ls2.gamma", 1.0)
        i += 1
    x = F.layer_norm(x, (dim,), w["norm.weight"], w["norm.bias"], eps)
    logits = F.linear(x[:, 0], w["head.weight"], w["head.bias"])
    if "dist_token" in w:
        logits = (logits + F.linear(x[:, 1], w["head_dist.weight"], w["head_dist.bias"])) / 2
    return logits


def main():
    run_reference(lambda w, images, args: timm_forward(w, images, args.heads),
                  lambda parser: parser.add_argument("--heads", type=int, required=True),
                  dtype=torch.float32)


if __name__ == "__main__":
    main()
