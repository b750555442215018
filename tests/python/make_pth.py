"""Writes the tensors of a .safetensors file as a PyTorch checkpoint with torch.save (zip format),
as a plain OrderedDict state dict or wrapped as the official DeiT files are: {"model": ...}.

    python3 make_pth.py WEIGHTS.safetensors OUT.pth [--wrap model] [--legacy]
"""
import argparse
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from vitc_torch import read_safetensors  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("weights")
parser.add_argument("out")
parser.add_argument("--wrap", default="")
parser.add_argument("--legacy", action="store_true", help="the pre-1.6 (non-zip) format")
args = parser.parse_args()
tensors, _ = read_safetensors(args.weights)
state = collections.OrderedDict(sorted(tensors.items()))
obj = {args.wrap: state} if args.wrap else state
torch.save(obj, args.out, _use_new_zipfile_serialization=not args.legacy)
print("wrote", args.out)
