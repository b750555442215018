"""Reference logits for the tests: the Swin Transformer's forward pass (Liu et al. 2021, as timm's
swin_transformer.py computes it) written out with plain torch.nn.functional calls on a state
dict in timm's layout (layers.S.blocks.J, layers.S.downsample at the start of stage S, head.fc),
independent of vitc's C++ and Python model code. Windows are built by listing each window's
token positions on the shifted grid (no roll, no reshape trick); the relative position bias and
the shifted-window mask are computed entry by entry from the positions; patch merging
concatenates x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2] as the paper writes it.
LayerNorm eps 1e-5, average pooling after the final norm.

    python3 swin_reference.py WEIGHTS.safetensors IMAGES.safetensors OUT.safetensors --window W
"""
import torch
import torch.nn.functional as F

from reference_util import layer_norm, linear as lin, run_reference

EPS = 1e-5


def ln(x, w, p):
    return layer_norm(x, w, p, EPS)


def window_attention(y, w, p, side, win, shift):
    """Attention of the normalised tokens y [B, side*side, C] within win x win windows of the grid
    shifted by `shift` (the token at row r, column c sits at ((r - shift) % side, (c - shift) %
    side) of the shifted grid)."""
    B, L, C = y.shape
    table = w[p + "attn.relative_position_bias_table"]  # [(2 win - 1)^2, heads]
    heads = table.shape[1]
    d = C // heads
    qkv = lin(y, w, p + "attn.qkv")  # [B, L, 3C]: q, k, v of every head
    out = torch.zeros(B, L, C, dtype=y.dtype)

    def region(r):
        if shift == 0:
            return 0
        return 0 if r < side - win else 1 if r < side - shift else 2

    for a in range(side // win):
        for b in range(side // win):
            cells = [(r, c) for r in range(a * win, (a + 1) * win)
                     for c in range(b * win, (b + 1) * win)]  # shifted-grid coordinates
            tokens = [((r + shift) % side) * side + (c + shift) % side for r, c in cells]
            n = len(cells)
            bias = torch.zeros(heads, n, n, dtype=y.dtype)
            for i, (ri, ci) in enumerate(cells):
                for j, (rj, cj) in enumerate(cells):
                    row = (ri - rj + win - 1) * (2 * win - 1) + (ci - cj + win - 1)
                    bias[:, i, j] = table[row]
                    if (region(ri), region(ci)) != (region(rj), region(cj)):
                        bias[:, i, j] += -100.0
            t = qkv[:, tokens].reshape(B, n, 3, heads, d).permute(2, 0, 3, 1, 4)  # [3, B, H, n, d]
            q, k, v = t[0], t[1], t[2]
            attn = ((q * d ** -0.5) @ k.transpose(-2, -1) + bias).softmax(-1)
            out[:, tokens] = (attn @ v).transpose(1, 2).reshape(B, n, C)
    return lin(out, w, p + "attn.proj")


def patch_merging(x, side, w, p):
    B, _, C = x.shape
    g = x.reshape(B, side, side, C)
    g = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], -1)
    return lin(ln(g.reshape(B, -1, 4 * C), w, p + ".norm"), w, p + ".reduction"), side // 2


def swin_forward(w, images, window):
    patch = w["patch_embed.proj.weight"]
    x = F.conv2d(images, patch, w["patch_embed.proj.bias"], stride=patch.shape[-1])
    side = x.shape[-1]
    x = ln(x.flatten(2).transpose(1, 2), w, "patch_embed.norm")
    s = 0
    while f"layers.{s}.blocks.0.norm1.weight" in w:
        if f"layers.{s}.downsample.reduction.weight" in w:
            x, side = patch_merging(x, side, w, f"layers.{s}.downsample")
        win = min(window, side)
        j = 0
        while f"layers.{s}.blocks.{j}.norm1.weight" in w:
            p = f"layers.{s}.blocks.{j}."
            shift = win // 2 if j % 2 == 1 and side > window else 0
            x = x + window_attention(ln(x, w, p + "norm1"), w, p, side, win, shift)
            x = x + lin(F.gelu(lin(ln(x, w, p + "norm2"), w, p + "mlp.fc1")), w, p + "mlp.fc2")
            j += 1
        s += 1
    return lin(ln(x, w, "norm").mean(1), w, "head.fc")


def main():
    run_reference(lambda w, images, args: swin_forward(w, images, args.window),
                  lambda parser: parser.add_argument("--window", type=int, required=True))


if __name__ == "__main__":
    main()
