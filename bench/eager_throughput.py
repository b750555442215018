"""PyTorch eager side of bench_device_throughput: inference and training images/s of the same
model and weights, fp32 and bf16 (torch.autocast) interleaved round by round, the same batch
sizes, warm-up, rounds and JSON layout.

The model is either timm's (the reference a user would compare with; the weights come from a
safetensors file so that vitc loads the very same ones) or vitc's PyTorch port of a vitc model
directory (python/vitc_torch.py; for machines without timm).

    python3 eager_throughput.py --timm deit_small_patch16_224 --weights W.safetensors --device cuda
    python3 eager_throughput.py --model-dir runs/x --device cpu
    python3 eager_throughput.py --export-timm deit_small_patch16_224 --weights W.safetensors

Training step: forward, cross-entropy on random labels, backward, torch.optim.AdamW.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import vitc_torch  # noqa: E402


def timm_model(name, weights=None, seed=0):
    import timm  # only this path needs it
    torch.manual_seed(seed)
    model = timm.create_model(name, pretrained=False)
    if weights:
        tensors, _ = vitc_torch.read_safetensors(weights)
        model.load_state_dict(tensors, strict=True)
    return model


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(model, device, precisions, infer_batch, train_batch, warmup, rounds, in_chans, size,
            classes):
    gen = torch.Generator().manual_seed(0)
    infer_x = torch.randn(infer_batch, in_chans, size, size, generator=gen).to(device)
    train_x = torch.randn(train_batch, in_chans, size, size, generator=gen).to(device)
    train_y = torch.randint(classes, (train_batch,), generator=gen).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    times = {p: {"infer": [], "train": []} for p in precisions}
    for r in range(warmup + rounds):
        for p in precisions:
            autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16,
                                      enabled=(p == "bf16"))
            model.eval()
            sync(device)
            t0 = time.perf_counter()
            with torch.no_grad(), autocast:
                model(infer_x)
            sync(device)
            infer_s = time.perf_counter() - t0
            model.train()
            t0 = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                logits = model(train_x)
            torch.nn.functional.cross_entropy(logits.float(), train_y).backward()
            optimizer.step()
            sync(device)
            train_s = time.perf_counter() - t0
            if r >= warmup:
                times[p]["infer"].append(infer_s)
                times[p]["train"].append(train_s)
        print(f"\rround {r + 1}/{warmup + rounds}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timm", help="timm model name")
    parser.add_argument("--weights", help="safetensors weights of the timm model")
    parser.add_argument("--export-timm", metavar="NAME",
                        help="write the randomly initialised (seed 0) timm model NAME to --weights and exit")
    parser.add_argument("--model-dir", help="a vitc model directory (run by python/vitc_torch.py)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--infer-batch", type=int, default=64)
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU)")
    parser.add_argument("--flush-denormals", type=int, default=0, choices=(0, 1),
                        help="torch.set_flush_denormal (vitc's --flush-denormals; PyTorch's default 0)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    if args.export_timm:
        if not args.weights:
            parser.error("--export-timm needs --weights OUT.safetensors")
        if os.path.exists(args.weights):
            parser.error(f"--weights {args.weights}: exists; --export-timm writes a new file")
        model = timm_model(args.export_timm)
        vitc_torch.write_safetensors(args.weights, {k: v.contiguous() for k, v in model.state_dict().items()})
        print(f"wrote {args.weights} ({sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params)")
        return 0
    if bool(args.timm) == bool(args.model_dir):
        parser.error("give exactly one of --timm (with --weights) and --model-dir")
    if args.model_dir and not os.path.isfile(os.path.join(args.model_dir, "model.json")):
        parser.error(f"--model-dir {args.model_dir}: no model.json there (expected a vitc model directory)")
    if args.timm and args.weights and not os.path.isfile(args.weights):
        parser.error(f"--weights {args.weights}: no such file")
    precisions = args.precisions.split(",")
    for p in precisions:
        if p not in ("fp32", "bf16"):
            parser.error(f"--precisions: fp32 or bf16, got '{p}'")
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(bool(args.flush_denormals))
    device = torch.device(args.device)
    if args.timm:
        model = timm_model(args.timm, args.weights)
        in_chans, size = model.patch_embed.proj.in_channels, model.patch_embed.img_size[0]
        classes, name, impl = model.num_classes, args.timm, f"timm {getattr(sys.modules.get('timm'), '__version__', '?')}"
    else:
        model = vitc_torch.load_model(args.model_dir)
        c = model.config
        in_chans, size, classes, name, impl = c["in_chans"], c["img_size"], c["num_classes"], c["name"], "vitc_torch"
    model.to(device)
    times = measure(model, device, precisions, args.infer_batch, args.train_batch, args.warmup,
                    args.rounds, in_chans, size, classes)
    out = {"implementation": f"PyTorch {torch.__version__} eager, {impl}", "model": name,
           "device": str(device), "threads": torch.get_num_threads(), "infer_batch": args.infer_batch,
           "train_batch": args.train_batch, "rounds": args.rounds, "results": []}
    print(f"{out['implementation']}: {name} on {device}, {args.rounds} timed rounds after "
          f"{args.warmup} warm-up, precisions interleaved")
    print(f"| precision | inference img/s (batch {args.infer_batch}) | training img/s (batch {args.train_batch}) |")
    print("|---|---|---|")
    for p in precisions:
        infer = args.infer_batch / statistics.median(times[p]["infer"])
        train = args.train_batch / statistics.median(times[p]["train"])
        print(f"| {p} | {infer:.1f} | {train:.1f} |")
        out["results"].append({"precision": p, "infer_images_per_s": infer, "train_images_per_s": train,
                               "infer_seconds": times[p]["infer"], "train_seconds": times[p]["train"]})
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, RuntimeError) as e:  # unreadable or mismatched weights, say
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
