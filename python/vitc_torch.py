"""vitc models in PyTorch: rebuild any vitc model directory (model.safetensors + model.json, dense
or compressed: uneven heads, skipped blocks, removed attention or MLP branches; ResNets dense,
block-dropped or filter-pruned) as a
torch.nn.Module that gives vitc's logits, and export it to ONNX.

Works with PyTorch 1.13 (Debian's python3-torch) and 2.x; needs nothing but torch.

    import vitc_torch
    model = vitc_torch.load_model("runs/slim50")        # eval mode, weights loaded strictly
    logits = model(images)                               # [B, C, H, W] normalised -> [B, classes]
    vitc_torch.export_onnx(model, "slim50.onnx")         # dynamic batch size

Command line:
    python3 vitc_torch.py onnx MODEL_DIR OUT.onnx [--opset 14] [--batch 1]
    python3 vitc_torch.py logits MODEL_DIR IMAGES.safetensors OUT.safetensors
"""

import argparse
import inspect
import json
import math
import os
import struct
import sys

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["read_safetensors", "write_safetensors", "VisionTransformer", "ResNet", "load_model",
           "export_onnx"]

# ---- safetensors ------------------------------------------------------------------------------

_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read_safetensors(path):
    """Returns ({name: tensor}, metadata) of a .safetensors file (tensors own their memory)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise ValueError(f"{path}: header length {header_len} exceeds the file size {len(data)}")
    header = json.loads(data[8:8 + header_len].decode("utf-8"))
    base = 8 + header_len
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        if not 0 <= begin <= end <= len(data) - base:
            raise ValueError(f"{path}: tensor {name} has offsets {begin}..{end} outside the data")
        raw = bytearray(data[base + begin:base + end])
        shape = list(info["shape"])
        if len(raw) == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(raw, dtype=dtype).reshape(shape)
    return tensors, metadata


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (keys in sorted order, header padded to 8 bytes) atomically."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _NAMES:
            raise ValueError(f"tensor {name}: dtype {t.dtype} cannot be stored")
        raw = _tensor_bytes(t)
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---- the model ---------------------------------------------------------------------------------


def relative_position_index(window):
    """[w^2, w^2]: the row of the bias table for query i and key j of a window."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window),
                                        indexing="ij")).flatten(1)  # [2, w^2]
    rel = coords[:, :, None] - coords[:, None, :] + (window - 1)
    return rel[0] * (2 * window - 1) + rel[1]


class Attention(nn.Module):
    """qkv rows are [q of every head | k of every head | v of every head]; heads may differ in
    their q/k and v widths. Consecutive heads of equal widths are computed as one group. With a
    window (Swin), each head adds its column of the relative position bias table."""

    def __init__(self, dim, heads, scale, qkv_bias, window=0):
        super().__init__()
        self.scale = scale
        if window:
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros((2 * window - 1) ** 2, len(heads)))
            self.register_buffer("relative_position_index", relative_position_index(window),
                                 persistent=False)
        self.window = window
        self.qk_total = sum(h["qk_dim"] for h in heads)
        self.v_total = sum(h["v_dim"] for h in heads)
        groups, q_off, v_off = [], 0, 0
        for h in heads:
            qk, v = h["qk_dim"], h["v_dim"]
            if groups and groups[-1][2] == qk and groups[-1][3] == v:
                groups[-1][1] += 1
            else:
                groups.append([q_off, 1, qk, v, v_off])
            q_off += qk
            v_off += v
        self.groups = [tuple(g) for g in groups]  # (q_offset, count, qk_dim, v_dim, v_offset)
        self.first_heads = [sum(g[1] for g in groups[:i]) for i in range(len(groups))]
        self.qkv = nn.Linear(dim, 2 * self.qk_total + self.v_total, bias=qkv_bias)
        self.proj = nn.Linear(self.v_total, dim)

    def forward(self, x, mask=None):
        """x: [B, N, dim]; mask (Swin's shifted windows): [W, N, N] added to every head's
        scores, x holding B / W images of W windows each."""
        B, N, _ = x.shape
        qkv = self.qkv(x)
        q = qkv[:, :, :self.qk_total]
        k = qkv[:, :, self.qk_total:2 * self.qk_total]
        v = qkv[:, :, 2 * self.qk_total:]
        bias = None
        if self.window:
            bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
            bias = bias.reshape(N, N, -1).permute(2, 0, 1)  # [heads, N, N]
        outs = []
        for (q_off, count, qk_dim, v_dim, v_off), first in zip(self.groups, self.first_heads):
            qg = q[:, :, q_off:q_off + count * qk_dim].reshape(B, N, count, qk_dim).transpose(1, 2)
            kg = k[:, :, q_off:q_off + count * qk_dim].reshape(B, N, count, qk_dim).transpose(1, 2)
            vg = v[:, :, v_off:v_off + count * v_dim].reshape(B, N, count, v_dim).transpose(1, 2)
            scores = (qg * self.scale) @ kg.transpose(-2, -1)
            if bias is not None:
                scores = scores + bias[first:first + count]
            if mask is not None:
                W = mask.shape[0]
                scores = (scores.reshape(-1, W, count, N, N) + mask[:, None]).reshape(-1, count, N, N)
            attn = scores.softmax(dim=-1)
            outs.append((attn @ vg).transpose(1, 2).reshape(B, N, count * v_dim))
        return self.proj(outs[0] if len(outs) == 1 else torch.cat(outs, dim=-1))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LayerScale(nn.Module):
    """DeiT III's per-channel scale of a branch output (timm's ls1/ls2.gamma)."""

    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


def shifted_window_mask(side, window, shift):
    """[windows, w^2, w^2]: -100 between tokens the cyclic shift brought into one window."""
    def region(p):
        return 0 if p < side - window else 1 if p < side - shift else 2
    labels = torch.tensor([[3 * region(r) + region(c) for c in range(side)] for r in range(side)])
    n = side // window
    windows = labels.reshape(n, window, n, window).permute(0, 2, 1, 3).reshape(n * n, -1)
    differ = windows[:, :, None] != windows[:, None, :]
    return torch.zeros(differ.shape).masked_fill(differ, -100.0)


class Block(nn.Module):
    """A block with vitc's per-block sizes; a skipped block (or branch) has no parameters.
    window = (side, window, shift): Swin's (shifted) window attention on a side x side grid."""

    def __init__(self, dim, spec, eps, qkv_bias, layer_scale, window=None):
        super().__init__()
        self.has_attn = not spec["skip"] and not spec["attn_skip"]
        self.has_mlp = not spec["skip"] and spec["mlp_hidden"] > 0
        self.window = window
        if self.has_attn:
            self.norm1 = nn.LayerNorm(dim, eps=eps)
            self.attn = Attention(dim, spec["heads"], spec["attn_scale"], qkv_bias,
                                  window[1] if window else 0)
            self.ls1 = LayerScale(dim) if layer_scale else nn.Identity()
            if window and window[2]:
                self.register_buffer("window_mask", shifted_window_mask(*window), persistent=False)
            else:
                self.window_mask = None
        if self.has_mlp:
            self.norm2 = nn.LayerNorm(dim, eps=eps)
            self.mlp = Mlp(dim, spec["mlp_hidden"])
            self.ls2 = LayerScale(dim) if layer_scale else nn.Identity()

    def attend(self, y):
        if not self.window:
            return self.attn(y)
        side, w, shift = self.window
        B, _, C = y.shape
        grid = y.reshape(B, side, side, C)
        if shift:
            grid = torch.roll(grid, (-shift, -shift), (1, 2))
        n = side // w
        windows = grid.reshape(B, n, w, n, w, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, C)
        out = self.attn(windows, self.window_mask)
        grid = out.reshape(B, n, n, w, w, C).permute(0, 1, 3, 2, 4, 5).reshape(B, side, side, C)
        if shift:
            grid = torch.roll(grid, (shift, shift), (1, 2))
        return grid.reshape(B, side * side, C)

    def forward(self, x):
        if self.has_attn:
            x = x + self.ls1(self.attend(self.norm1(x)))
        if self.has_mlp:
            x = x + self.ls2(self.mlp(self.norm2(x)))
        return x


class TokenPerformer(nn.Module):
    """T2T-ViT's Performer token attention: one head, positive random features (w, fixed), a v
    skip connection (the width changes) and an MLP of the same width."""

    def __init__(self, in_dim, token_dim, eps):
        super().__init__()
        self.register_buffer("w", torch.zeros(token_dim // 2, token_dim))
        self.kqv = nn.Linear(in_dim, 3 * token_dim)
        self.proj = nn.Linear(token_dim, token_dim)
        self.norm1 = nn.LayerNorm(in_dim, eps=eps)
        self.norm2 = nn.LayerNorm(token_dim, eps=eps)
        self.mlp = nn.Sequential(nn.Linear(token_dim, token_dim), nn.GELU(),
                                 nn.Linear(token_dim, token_dim))

    def forward(self, x):
        x = self.norm1(x)
        e, m = self.proj.weight.shape[0], self.w.shape[0]
        k, q, v = self.kqv(x).split(e, dim=-1)

        def features(t):
            return torch.exp(t @ self.w.t() - (t * t).sum(-1, keepdim=True) / 2) / math.sqrt(m)

        kp, qp = features(k), features(q)
        denom = qp @ kp.sum(1).unsqueeze(-1)
        y = (qp @ (v.transpose(1, 2) @ kp).transpose(1, 2)) / (denom + 1e-8)
        y = v + self.proj(y)
        return y + self.mlp(self.norm2(y))


class TokenAttention(nn.Module):
    def __init__(self, in_dim, token_dim):
        super().__init__()
        self.qkv = nn.Linear(in_dim, 3 * token_dim, bias=False)
        self.proj = nn.Linear(token_dim, token_dim)
        self.scale = in_dim ** -0.5

    def forward(self, x):
        q, k, v = self.qkv(x).split(self.proj.weight.shape[0], dim=-1)
        attn = ((q * self.scale) @ k.transpose(1, 2)).softmax(dim=-1)
        return v + self.proj(attn @ v)


class TokenTransformer(nn.Module):
    """T2T-ViT's Transformer token attention: one softmax head, a v skip connection, an MLP."""

    def __init__(self, in_dim, token_dim, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(in_dim, eps=eps)
        self.attn = TokenAttention(in_dim, token_dim)
        self.norm2 = nn.LayerNorm(token_dim, eps=eps)
        self.mlp = Mlp(token_dim, token_dim)

    def forward(self, x):
        x = self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class T2TStem(nn.Module):
    """T2T-ViT's tokens-to-token module: soft splits (unfold) with token attentions between
    them, then a projection to the ViT width."""

    def __init__(self, config):
        super().__init__()
        spec = config["t2t"]
        self.splits = [(s["kernel"], s["stride"], s["padding"]) for s in spec["splits"]]
        width, e = config["in_chans"], spec["token_dim"]
        kind = TokenPerformer if spec["attention"] == "performer" else TokenTransformer
        for i, (k, _, _) in enumerate(self.splits[:-1]):
            setattr(self, f"attention{i + 1}", kind(width * k * k, e, config["norm_eps"]))
            width = e
        k = self.splits[-1][0]
        self.project = nn.Linear(width * k * k, config["embed_dim"])

    def forward(self, x):
        for i, (k, s, p) in enumerate(self.splits):
            if i > 0:
                side = int(round(math.sqrt(x.shape[1])))
                x = x.transpose(1, 2).reshape(x.shape[0], x.shape[2], side, side)
            x = F.unfold(x, kernel_size=k, stride=s, padding=p).transpose(1, 2)
            if i + 1 < len(self.splits):
                x = getattr(self, f"attention{i + 1}")(x)
        return self.project(x)


class PatchMerging(nn.Module):
    """Swin: 2x2 tokens concatenated (x0 = even rows/even columns, x1 odd/even, x2 even/odd,
    x3 odd/odd), normalised and reduced from 4C to 2C."""

    def __init__(self, dim, eps):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim, eps=eps)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x, side):
        B, _, C = x.shape
        g = x.reshape(B, side, side, C)
        g = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(g.reshape(B, -1, 4 * C)))


def swin_geometry(config):
    """Per block (width, (side, window, shift)) of a Swin config, and the stage each opens."""
    swin = config["swin"]
    side0 = config["img_size"] // config["patch_size"]
    out, opens = [], []
    for s, depth in enumerate(swin["depths"]):
        side = side0 >> s
        for j in range(depth):
            window = min(swin["window_size"], side)
            shift = window // 2 if j % 2 == 1 and side > swin["window_size"] else 0
            out.append((config["embed_dim"] << s, (side, window, shift)))
            opens.append(s if j == 0 and s > 0 else None)
    return out, opens


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, dim, patch, eps=None):
        super().__init__()
        if eps is not None:  # Swin's patch_embed.norm
            self.norm = nn.LayerNorm(dim, eps=eps)
        else:
            self.norm = nn.Identity()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class VisionTransformer(nn.Module):
    """vitc's ViT from the "config" object of a model.json; parameter names are timm's."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        dim = config["embed_dim"]
        self.distilled = config["distilled"]
        self.swin = "swin" in config
        if self.swin:
            self._init_swin(config)
            return
        self.t2t = config.get("stem", "patch") == "t2t"
        if self.t2t:
            side = config["img_size"]
            for split in config["t2t"]["splits"]:
                side = (side + 2 * split["padding"] - split["kernel"]) // split["stride"] + 1
        else:
            side = config["img_size"] // config["patch_size"]
        tokens = side * side + (2 if self.distilled else 1)
        # DeiT III (no_embed_class): position embeddings for the patches only.
        self.no_embed_class = config.get("no_embed_class", False)
        if self.t2t:
            self.tokens_to_token = T2TStem(config)
        else:
            self.patch_embed = PatchEmbed(config["in_chans"], dim, config["patch_size"])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        if self.distilled:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, dim))
        positions = side * side if self.no_embed_class else tokens
        if self.t2t:  # T2T-ViT's fixed sinusoid table
            self.register_buffer("pos_embed", torch.zeros(1, positions, dim))
        else:
            self.pos_embed = nn.Parameter(torch.zeros(1, positions, dim))
        layer_scale = config.get("layer_scale", False)
        self.blocks = nn.ModuleList([Block(dim, b, config["norm_eps"], config["qkv_bias"],
                                           layer_scale) for b in config["blocks"]])
        # Token pruning: before a block with a "tokens" list, keep the cls/dist tokens and the
        # listed patch positions, as indices into the tokens that reach the block.
        self.token_gathers = []
        prefix = tokens - side * side
        reaching = list(range(side * side))
        for i, b in enumerate(config["blocks"]):
            kept = b.get("tokens", [])
            gather = None
            if kept and len(kept) < len(reaching):
                where = {p: r for r, p in enumerate(reaching)}
                gather = f"token_gather_{i}"
                index = list(range(prefix)) + [prefix + where[p] for p in kept]
                self.register_buffer(gather, torch.tensor(index, dtype=torch.long),
                                     persistent=False)
                reaching = kept
            self.token_gathers.append(gather)
        self.norm = nn.LayerNorm(dim, eps=config["norm_eps"])
        self.head = nn.Linear(dim, config["num_classes"])
        if self.distilled:
            self.head_dist = nn.Linear(dim, config["num_classes"])

    def _init_swin(self, config):
        """Swin: patch embedding with a norm, stages of window blocks, patch merging, average
        pooling; no cls token, no position embedding."""
        eps = config["norm_eps"]
        geometry, self.stage_opens = swin_geometry(config)
        self.patch_embed = PatchEmbed(config["in_chans"], config["embed_dim"],
                                      config["patch_size"], eps)
        self.blocks = nn.ModuleList([Block(dim, b, eps, config["qkv_bias"], False, window)
                                     for (dim, window), b in zip(geometry, config["blocks"])])
        self.merges = nn.ModuleList([PatchMerging(config["embed_dim"] << s, eps)
                                     for s in range(len(config["swin"]["depths"]) - 1)])
        final = geometry[-1][0]
        self.norm = nn.LayerNorm(final, eps=eps)
        self.head = nn.Linear(final, config["num_classes"])

    def forward_features(self, x):
        if self.swin:
            x = self.patch_embed(x)
            side = self.config["img_size"] // self.config["patch_size"]
            for block, stage in zip(self.blocks, self.stage_opens):
                if stage is not None:
                    x = self.merges[stage - 1](x, side)
                    side //= 2
                x = block(x)
            return self.norm(x)
        x = self.tokens_to_token(x) if self.t2t else self.patch_embed(x)
        B = x.shape[0]
        prefix = [self.cls_token.expand(B, -1, -1)]
        if self.distilled:
            prefix.append(self.dist_token.expand(B, -1, -1))
        if self.no_embed_class:
            x = torch.cat(prefix + [x + self.pos_embed], dim=1)
        else:
            x = torch.cat(prefix + [x], dim=1) + self.pos_embed
        for block, gather in zip(self.blocks, self.token_gathers):
            if gather is not None:
                x = x.index_select(1, getattr(self, gather))
            x = block(x)
        return self.norm(x)

    def forward(self, x):
        x = self.forward_features(x)
        if self.swin:
            return self.head(x.mean(1))
        logits = self.head(x[:, 0])
        if self.distilled:  # DeiT inference: the mean of both heads
            logits = (logits + self.head_dist(x[:, 1])) / 2
        return logits


# ---- ResNet (model.json "family": "resnet") ---------------------------------------------------

class ResNetBlock(nn.Module):
    """relu(branch(x) + shortcut(x)); basic: conv1 3x3 (stride), conv2 3x3; bottleneck: conv1 1x1,
    conv2 3x3 (stride), conv3 1x1; every conv bias-free and followed by a BatchNorm."""

    def __init__(self, config, i, in_ch, out_ch, stride, downsample):
        super().__init__()
        inner = config["blocks"][i]["inner"]
        eps = config["bn_eps"]
        widths = [in_ch] + inner + [out_ch]
        kernels = [1, 3, 1] if config["block"] == "bottleneck" else [3, 3]
        strides = [1, stride, 1] if config["block"] == "bottleneck" else [stride, 1]
        self.depth = len(kernels)
        for k in range(self.depth):
            setattr(self, f"conv{k + 1}", nn.Conv2d(widths[k], widths[k + 1], kernels[k], strides[k],
                                                    kernels[k] // 2, bias=False))
            setattr(self, f"bn{k + 1}", nn.BatchNorm2d(widths[k + 1], eps=eps))
        self.downsample = None
        if downsample:
            self.downsample = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False),
                                            nn.BatchNorm2d(out_ch, eps=eps))

    def forward(self, x):
        y = x
        for k in range(self.depth):
            y = getattr(self, f"bn{k + 1}")(getattr(self, f"conv{k + 1}")(y))
            if k + 1 < self.depth:
                y = F.relu(y)
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    """A vitc ResNet config (dense, block-dropped or filter-pruned) with timm's parameter names."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        expansion = 4 if config["block"] == "bottleneck" else 1
        imagenet = config["stem"] == "imagenet"
        self.conv1 = nn.Conv2d(config["in_chans"], config["stem_width"], 7 if imagenet else 3,
                               2 if imagenet else 1, 3 if imagenet else 1, bias=False)
        self.bn1 = nn.BatchNorm2d(config["stem_width"], eps=config["bn_eps"])
        self.pool = nn.MaxPool2d(3, 2, 1) if imagenet else nn.Identity()
        in_ch, previous_stage = config["stem_width"], None
        layers = [nn.Sequential() for _ in config["planes"]]
        for i, b in enumerate(config["blocks"]):
            s = b["stage"]
            out_ch = config["planes"][s] * expansion
            stride = 2 if s > 0 and s != previous_stage else 1
            layers[s].add_module(str(len(layers[s])), ResNetBlock(config, i, in_ch, out_ch, stride,
                                         stride != 1 or in_ch != out_ch))
            in_ch, previous_stage = out_ch, s
        for s, layer in enumerate(layers):
            setattr(self, f"layer{s + 1}", layer)
        self.num_stages = len(layers)
        self.fc = nn.Linear(in_ch, config["num_classes"])

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        for s in range(self.num_stages):
            x = getattr(self, f"layer{s + 1}")(x)
        return self.fc(x.mean((2, 3)))


def load_model(model_dir):
    """The model of a vitc model directory, in eval mode, with every weight loaded strictly."""
    with open(os.path.join(model_dir, "model.json"), encoding="utf-8") as f:
        meta = json.load(f)
    if "config" not in meta:
        raise ValueError(f"{model_dir}/model.json has no \"config\"")
    family = meta.get("family", "vit")
    if family not in ("vit", "resnet"):
        raise ValueError(f"{model_dir}/model.json: unknown family {family!r}")
    model = ResNet(meta["config"]) if family == "resnet" else VisionTransformer(meta["config"])
    tensors, _ = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    tensors = {k: v.to(torch.float32) if v.is_floating_point() else v for k, v in tensors.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise ValueError(f"{model_dir}: weights do not match model.json: missing {missing}, "
                         f"unexpected {unexpected}")
    return model.eval()


def export_onnx(model, path, batch_size=1, opset=14, dynamic_batch=True):
    """Exports `model` (a VisionTransformer or a ResNet) to ONNX with input "images" and output "logits"."""
    c = model.config
    example = torch.zeros(batch_size, c["in_chans"], c["img_size"], c["img_size"])
    kwargs = {"input_names": ["images"], "output_names": ["logits"], "opset_version": opset}
    if dynamic_batch:
        kwargs["dynamic_axes"] = {"images": {0: "batch"}, "logits": {0: "batch"}}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: no onnxscript needed
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, (example,), path, **kwargs)


def _main(argv):
    parser = argparse.ArgumentParser(description="vitc models in PyTorch")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("onnx", help="export a vitc model directory to ONNX")
    p.add_argument("model_dir")
    p.add_argument("out")
    p.add_argument("--opset", type=int, default=14)
    p.add_argument("--batch", type=int, default=1, help="batch size of the example input")
    p.add_argument("--static-batch", action="store_true", help="fix the batch size")
    p = sub.add_parser("logits", help="logits of a batch of model inputs")
    p.add_argument("model_dir")
    p.add_argument("images", help=".safetensors with \"images\" [N,C,H,W] float32 (model input)")
    p.add_argument("out", help=".safetensors to write with \"logits\"")
    args = parser.parse_args(argv)
    model = load_model(args.model_dir)
    if args.command == "onnx":
        export_onnx(model, args.out, args.batch, args.opset, not args.static_batch)
        print(f"wrote {args.out}")
    else:
        tensors, _ = read_safetensors(args.images)
        images = tensors["images"].to(torch.float32)
        with torch.no_grad():
            logits = model(images)
        write_safetensors(args.out, {"logits": logits})
        print(f"wrote {args.out} {list(logits.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
