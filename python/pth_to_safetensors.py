"""Converts a PyTorch checkpoint (.pth/.pt/.bin from torch.save, zip or legacy format) into a
.safetensors file that vitc reads without Python: LibTorch 1.13 cannot unpickle state dicts.

    python3 python/pth_to_safetensors.py deit_small_patch16_224-cd65a155.pth deit_small.safetensors

Accepts a plain state dict or one wrapped as {"model": ...} (the official DeiT files),
{"state_dict": ...} or under --key; removes a "module." prefix (DistributedDataParallel).
Loads with torch.load(weights_only=True) where PyTorch supports it (1.13 and later), so the
file's pickle cannot run code; --unsafe-pickle lifts that for checkpoints that also pickle other
objects (training arguments), and should be used only for files you trust.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vitc_torch import write_safetensors  # noqa: E402


def load_checkpoint(path, unsafe):
    kwargs = {"map_location": "cpu"}
    try:
        return torch.load(path, weights_only=not unsafe, **kwargs)
    except TypeError as e:  # a PyTorch without weights_only (< 1.13)
        if "weights_only" not in str(e):
            raise
        if not unsafe:
            raise SystemExit(f"error: this PyTorch ({torch.__version__}) cannot load without "
                             "running the file's pickle; pass --unsafe-pickle if you trust it")
        return torch.load(path, **kwargs)
    except Exception as e:  # noqa: BLE001 - torch raises several types for pickles it refuses
        if unsafe:
            raise
        raise SystemExit(f"error: cannot load '{path}' as plain tensors ({e}); if the file is "
                         "trusted, pass --unsafe-pickle")


def state_dict_of(checkpoint, key, path):
    if isinstance(checkpoint, dict) and key:
        if key not in checkpoint:
            raise SystemExit(f"error: '{path}' has no key '{key}'; keys: {list(checkpoint)}")
        checkpoint = checkpoint[key]
    elif isinstance(checkpoint, dict):
        for wrapper in ("model", "state_dict"):
            if isinstance(checkpoint.get(wrapper), dict):
                checkpoint = checkpoint[wrapper]
                break
    if not isinstance(checkpoint, dict):
        raise SystemExit(f"error: '{path}' does not hold a dict of tensors "
                         f"({type(checkpoint).__name__})")
    tensors, others = {}, []
    for name, value in checkpoint.items():
        if not isinstance(value, torch.Tensor):
            others.append(name)
            continue
        name = name[len("module."):] if name.startswith("module.") else name
        tensors[name] = value.detach().cpu().contiguous().clone()
    if others:
        raise SystemExit(f"error: '{path}': entries that are not tensors: {others[:8]}; pick the "
                         "state dict with --key")
    if not tensors:
        raise SystemExit(f"error: '{path}' holds no tensors")
    return tensors


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help=".pth / .pt / .bin file written by torch.save")
    parser.add_argument("out", help=".safetensors file to write")
    parser.add_argument("--key", default="", help="the entry holding the state dict")
    parser.add_argument("--unsafe-pickle", action="store_true",
                        help="allow pickled objects other than tensors (trusted files only)")
    args = parser.parse_args(argv)
    tensors = state_dict_of(load_checkpoint(args.checkpoint, args.unsafe_pickle), args.key,
                            args.checkpoint)
    write_safetensors(args.out, tensors, {"format": "pt", "converted_from":
                                          os.path.basename(args.checkpoint)})
    print(f"wrote {args.out}: {len(tensors)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
