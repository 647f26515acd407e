#!/usr/bin/env python3
"""Run `convgraph bench` and bench/torch_bench.py alternately and compare their medians.

For each model, batch size and thread count, the two programs take turns --runs times
(convgraph first, then PyTorch, then convgraph...), so a burst of load from elsewhere on the
machine hits both about equally. The table gives the median images/second of each side, the
ratio convgraph / PyTorch, and the issue's target for that row; every single run is listed
below it so noise can be judged.

    python3 bench/compare.py                      # fashion-cnn, batch 32 and 128, 2 threads
    python3 bench/compare.py --models fashion-cnn,alexnet-small,resnet-small --runs 7
    python3 bench/compare.py --models mobilenet-small --batches 32 --runs 3
    python3 bench/compare.py --threads 1,2 --seconds 5
    python3 bench/compare.py --stock        # add stock Gorgonia's course CNN (slow)

PyTorch comes from --python (default /usr/bin/python3, Debian's python3-torch, which a pyenv
python3 on PATH may shadow). convgraph is built once into a temporary directory from this
checkout (go build ./cmd/convgraph), unless --convgraph names a binary.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The targets: convgraph / PyTorch on the same machine and thread count.
TARGETS = {
    ("fashion-cnn", "train"): 1.5,
    ("fashion-cnn", "infer"): 1.5,
    ("alexnet-small", "train"): 1.0,
    ("resnet-small", "train"): 1.0,
}


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="fashion-cnn")
    ap.add_argument("--batches", default="32,128", help="training batch sizes")
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--threads", default="2", help="comma-separated thread counts")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--convgraph", default="", help="a convgraph binary (default: build one)")
    ap.add_argument("--stock", action="store_true",
                    help="also time the course CNN on stock Gorgonia ops (bench/stockgorgonia), fashion-cnn rows only")
    ap.add_argument("--torch-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the PyTorch runs only (e.g. OMP_WAIT_POLICY=PASSIVE)")
    ap.add_argument("--json", default="", help="also write every run to this JSON file")
    a = ap.parse_args()

    binary = a.convgraph
    if not binary:
        binary = os.path.join(tempfile.mkdtemp(prefix="convgraph-bench-"), "convgraph")
        subprocess.run(["go", "build", "-o", binary, "./cmd/convgraph"], check=True, cwd=ROOT)
    stock = ""
    if a.stock:
        stock = os.path.join(os.path.dirname(binary), "stockgorgonia")
        subprocess.run(["go", "build", "-o", stock, "./bench/stockgorgonia"], check=True, cwd=ROOT)

    torch_env = dict(os.environ)
    for kv in a.torch_env:
        k, _, v = kv.partition("=")
        torch_env[k] = v
    rows, runs = [], []
    for model in a.models.split(","):
        for threads in [int(t) for t in a.threads.split(",")]:
            for batch in [int(b) for b in a.batches.split(",")]:
                common = ["--model", model, "--batch", str(batch), "--infer-batch", str(a.infer_batch),
                          "--threads", str(threads), "--seconds", str(a.seconds), "--json"]
                cg, pt, st = [], [], []
                for i in range(a.runs):
                    cg.append(run_json([binary, "bench"] + common))
                    pt.append(run_json([a.python, os.path.join(HERE, "torch_bench.py")] + common, env=torch_env))
                    if stock and model == "fashion-cnn":
                        st.append(run_json([stock] + common))
                    print(f"  {model} batch {batch} threads {threads} run {i + 1}: "
                          f"convgraph train {cg[-1]['train_img_per_s']:.0f} infer {cg[-1]['infer_img_per_s']:.0f} | "
                          f"pytorch train {pt[-1]['train_img_per_s']:.0f} infer {pt[-1]['infer_img_per_s']:.0f}",
                          file=sys.stderr, flush=True)
                runs.append({"model": model, "batch": batch, "threads": threads, "convgraph": cg, "pytorch": pt})
                for metric, b in (("train", batch), ("infer", a.infer_batch)):
                    key = metric + "_img_per_s"
                    c = statistics.median(r[key] for r in cg)
                    p = statistics.median(r[key] for r in pt)
                    rows.append({
                        "model": model, "metric": metric, "batch": b, "threads": threads,
                        "path": cg[0]["path"], "convgraph": c, "pytorch": p, "ratio": c / p,
                        "target": TARGETS.get((model, metric)),
                        "cg_runs": [r[key] for r in cg], "pt_runs": [r[key] for r in pt],
                        "cg_rss": max(r["max_rss_mb"] for r in cg), "pt_rss": max(r["max_rss_mb"] for r in pt),
                        "stock": statistics.median(r[key] for r in st) if st else None,
                        "st_runs": [r[key] for r in st],
                    })

    # Inference is measured at the same --infer-batch with every training batch: keep one row.
    seen, table = set(), []
    for r in rows:
        k = (r["model"], r["metric"], r["batch"], r["threads"])
        if k not in seen:
            seen.add(k)
            table.append(r)

    print(f"medians of {a.runs} alternating runs of >= {a.seconds:g} s each; images/second")
    print()
    print("| model | measure | batch | threads | convgraph | PyTorch | ratio | target | met | stock Gorgonia |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in table:
        t = r["target"]
        met = "" if t is None else ("yes" if r["ratio"] >= t else "no")
        stk = "" if r["stock"] is None else f"{r['stock']:,.0f}"
        print(f"| {r['model']} | {r['metric']} | {r['batch']} | {r['threads']} | {r['convgraph']:,.0f} "
              f"| {r['pytorch']:,.0f} | {r['ratio']:.2f}x | {'' if t is None else f'>= {t:g}x'} | {met} | {stk} |")
    print()
    print(f"convgraph compute path: {table[0]['path']}"
          + (f"; PyTorch environment: {' '.join(a.torch_env)}" if a.torch_env else ""))
    print("peak RSS (MB), convgraph / PyTorch, per model: " + ", ".join(
        f"{m} {max(r['cg_rss'] for r in table if r['model'] == m):.0f} / "
        f"{max(r['pt_rss'] for r in table if r['model'] == m):.0f}"
        for m in dict.fromkeys(r["model"] for r in table)))
    print()
    print("every run (convgraph | PyTorch | stock Gorgonia):")
    for r in table:
        print(f"  {r['model']} {r['metric']} batch {r['batch']} threads {r['threads']}: "
              + " ".join(f"{v:.0f}" for v in r["cg_runs"]) + " | " + " ".join(f"{v:.0f}" for v in r["pt_runs"])
              + (" | " + " ".join(f"{v:.0f}" for v in r["st_runs"]) if r["st_runs"] else ""))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
