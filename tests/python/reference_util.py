"""What the tests' PyTorch references (timm_reference.py, t2t_reference.py, swin_reference.py)
share: LayerNorm and Linear on a state dict's tensors, and the command line that reads a state
dict and a batch of images, runs a reference forward pass without autograd and writes its
logits."""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from vitc_torch import read_safetensors, write_safetensors  # noqa: E402


def layer_norm(x, w, p, eps):
    """LayerNorm over the last dimension with `p`.weight and `p`.bias."""
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], eps)


def linear(x, w, p):
    """`p`.weight and `p`.bias if the state dict has one."""
    return F.linear(x, w[p + ".weight"], w.get(p + ".bias"))


def run_reference(forward, add_arguments=None, dtype=torch.float64):
    """python3 X_reference.py WEIGHTS.safetensors IMAGES.safetensors OUT.safetensors [options]:
    logits = forward(weights, images, args) in `dtype`, written as float32 "logits"; a forward
    that returns a dict has each of its tensors written (int64 ones as they are). A
    DistributedDataParallel "module." prefix is removed from the weights' names."""
    parser = argparse.ArgumentParser()
    parser.add_argument("weights")
    parser.add_argument("images")
    parser.add_argument("out")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    w, _ = read_safetensors(args.weights)
    w = {k.replace("module.", "", 1): v.to(dtype) for k, v in w.items() if v.is_floating_point()}
    images, _ = read_safetensors(args.images)
    with torch.no_grad():
        out = forward(w, images["images"].to(dtype), args)
    if not isinstance(out, dict):
        out = {"logits": out}
    write_safetensors(args.out, {k: v if v.dtype == torch.int64 else v.float() for k, v in out.items()})
    print("torch", torch.__version__, "logits", list(out["logits"].shape))
