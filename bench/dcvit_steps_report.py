#!/usr/bin/python3
"""The table and plot of bench/dcvit_steps_study.sh: PRACTISE drop 2 against DC-ViT k=3 and k=2
at equal MACs, for every finetuning budget per stage that has finished.

    bench/dcvit_steps_report.py OUT EPOCHS...

Reads OUT/<run>/run.json (pr2_e<E>, dc3_e<E>, dc2_e<E>) and OUT/logs/<run>.seconds; writes
OUT/results.md, OUT/results.csv and OUT/gap_vs_steps.{png,svg} (gnuplot). Runs that have not
finished are listed as missing, not guessed.
"""
import csv
import json
import os
import subprocess
import sys

METHODS = [("pr2", "PRACTISE drop 2"), ("dc3", "DC-ViT k=3 (k = b+1)"), ("dc2", "DC-ViT k=2 (k = b)")]


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def load(out, name):
    path = os.path.join(out, name, "run.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            run = json.load(f)
        result = run["result"]
        few_shot = run["few_shot"]["count"]
        batch = run["settings"]["mimic"]["batch_size"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"{path}: unreadable run record ({type(e).__name__}: {e})")
    blocks = run.get("blocks", run.get("dropped"))
    stages = len(run["steps"]) if run["method"] == "dc-vit" else 1
    seconds_file = os.path.join(out, "logs", name + ".seconds")
    wall = float(open(seconds_file).read()) if os.path.exists(seconds_file) else run["wall_seconds"]
    return {"top1": result["top1"], "macs": result["macs"], "macs_fraction": result["macs_fraction"],
            "latency": run.get("latency", {}).get("ratio"), "blocks": blocks,
            "hidden": run.get("plan", {}).get("hidden", 0), "stages": stages,
            "steps_per_epoch": few_shot // batch, "wall": wall, "teacher": run["teacher"]["eval"]["top1"]}


def minutes(s):
    return f"{int(s // 60)}m{int(s % 60):02d}s"


def seeds_of(out, m, e):
    """The run names of method m at e epochs: seed 0's and any _s<seed> runs."""
    prefix = f"{m}_e{e}_s"
    names = [f"{m}_e{e}"] if os.path.isdir(os.path.join(out, f"{m}_e{e}")) else []
    if os.path.isdir(out):
        names += sorted(n for n in os.listdir(out) if n.startswith(prefix) and n[len(prefix):].isdigit())
    return names


def mean_std(values):
    n = len(values)
    mean = sum(values) / n
    std = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return mean, std


def top1_text(values):
    mean, std = mean_std(values)
    return f"{mean:.2f}" if len(values) == 1 else f"{mean:.2f} ± {std:.2f} ({len(values)})"


def main():
    if len(sys.argv) < 3:
        fail("usage: dcvit_steps_report.py OUT EPOCHS...")
    out = sys.argv[1]
    try:
        epochs = [int(e) for e in sys.argv[2:]]
    except ValueError:
        fail(f"epochs must be integers, got {sys.argv[2:]}")
    runs = {}
    for m, _ in METHODS:
        for e in epochs:
            finished = [r for r in (load(out, n) for n in seeds_of(out, m, e)) if r]
            runs[(m, e)] = finished or None
    done = [r[0] for r in runs.values() if r]
    if not done:
        fail(f"no finished run in {out}")
    teacher = done[0]["teacher"]
    spe = done[0]["steps_per_epoch"]

    rows, missing = [], []
    for e in epochs:
        for m, label in METHODS:
            rs = runs[(m, e)]
            if rs is None:
                missing.append(f"{m}_e{e}")
                continue
            r = rs[0]
            what = f"dropped {','.join(map(str, r['blocks']))}" if m == "pr2" else \
                f"{','.join(map(str, r['blocks']))}; MLP {r['hidden']}"
            if any(x["blocks"] != r["blocks"] for x in rs):
                what += " (seed 0; others differ)"
            top1s = [x["top1"] for x in rs]
            rows.append([label, what, e, e * spe, e * spe * r["stages"], top1_text(top1s),
                         f"{mean_std(top1s)[0] - teacher:+.2f}",
                         f"{r['macs'] / 1e6:.2f} ({100 * r['macs_fraction']:.1f}%)",
                         f"{r['latency']:.2f}" if r["latency"] else "-",
                         " / ".join(minutes(x["wall"]) for x in rs)])
    header = ["method", "blocks", "epochs per stage", "steps per stage", "steps (all stages)",
              "top-1 (%)", "vs teacher", "MACs (M)", "latency b64 (seed 0)", "wall time (per seed)"]
    gaps = []
    for e in epochs:
        p, d3, d2 = runs[("pr2", e)], runs[("dc3", e)], runs[("dc2", e)]
        if p and d3 and d2:
            mp, m3, m2 = (mean_std([x["top1"] for x in rs])[0] for rs in (p, d3, d2))
            gaps.append((e, e * spe, mp - m3, mp - m2, mp, m3, m2, min(len(p), len(d3), len(d2))))

    with open(os.path.join(out, "results.csv.tmp"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(os.path.join(out, "results.csv.tmp"), os.path.join(out, "results.csv"))
    md = [f"teacher top-1 {teacher:.2f}% (10,000 test images); {spe} steps per epoch; "
          "top-1 as mean ± sample std (seeds) where several seeds ran", "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    md += ["", "| epochs per stage | steps per stage | PRACTISE - DC-ViT k=3 | PRACTISE - DC-ViT k=2 | seeds |",
           "|---|---|---|---|---|"]
    md += [f"| {e} | {s} | {g3:+.2f} | {g2:+.2f} | {n} |" for e, s, g3, g2, _p, _3, _2, n in gaps]
    if missing:
        md += ["", "not finished: " + ", ".join(missing)]
    with open(os.path.join(out, "results.md.tmp"), "w") as f:
        f.write("\n".join(md) + "\n")
    os.replace(os.path.join(out, "results.md.tmp"), os.path.join(out, "results.md"))
    print("\n".join(md))

    if len(gaps) < 2:
        print("fewer than two complete budgets: no plot")
        return
    dat = os.path.join(out, "gap_vs_steps.dat")
    with open(dat, "w") as f:
        f.write("# index steps_per_stage gap_k3 gap_k2 practise dcvit_k3 dcvit_k2 (means over seeds)\n")
        for i, (e, s, g3, g2, p, d3, d2, _n) in enumerate(gaps):
            f.write(f"{i} {s} {g3:.3f} {g2:.3f} {p:.3f} {d3:.3f} {d2:.3f}\n")
    tics = ", ".join(f'"{s}" {i}' for i, (_, s, *_rest) in enumerate(gaps))
    script = f"""
set datafile commentschars "#"
set xtics ({tics})
set xlabel "finetuning steps per stage (batch 64, 1000 unlabeled images)"
set grid
set key outside bottom center horizontal
set multiplot layout 1,2 title "fm\\\\_small teacher {teacher:.2f}%: PRACTISE drop 2 vs DC-ViT at 75% MACs"
set ylabel "top-1 (%)"
plot "{dat}" using 1:5 with linespoints lw 2 pt 7 lc rgb "#9400d3" title "PRACTISE drop 2", \\
     "{dat}" using 1:6 with linespoints lw 2 pt 5 lc rgb "#009e73" title "DC-ViT k=3", \\
     "{dat}" using 1:7 with linespoints lw 2 pt 9 lc rgb "#56b4e9" title "DC-ViT k=2", \\
     {teacher} with lines dt 2 lc rgb "gray" title "teacher"
set ylabel "PRACTISE minus DC-ViT (points)"
plot "{dat}" using 1:3 with linespoints lw 2 pt 5 lc rgb "#009e73" title "gap to k=3", \\
     "{dat}" using 1:4 with linespoints lw 2 pt 9 lc rgb "#56b4e9" title "gap to k=2", \\
     0 with lines lc rgb "black" notitle
unset multiplot
"""
    gp = os.path.join(out, "gap_vs_steps.gp")
    for term, ext in (("pngcairo size 1200,500", "png"), ("svg size 1200,500", "svg")):
        with open(gp, "w") as f:
            f.write(f"set terminal {term}\nset output '{os.path.join(out, 'gap_vs_steps.' + ext)}'\n" + script)
        r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"gnuplot {gp}: {r.stderr.strip()}")
    print(f"plot: {os.path.join(out, 'gap_vs_steps.png')}")


if __name__ == "__main__":
    main()
