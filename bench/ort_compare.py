#!/usr/bin/env python3
"""Compare convgraph's inference with ONNX Runtime's on the same exported model.

For each zoo model it exports the shipped weights (`convgraph export --model M
--pretrained`), then, for each batch size and thread count, runs `convgraph bench` (its
inference loop, at --infer-batch) and tools/ort/run.js (ONNX Runtime 1.30 for Node, CPU,
graph optimizations on, intra-op threads set) on the same random images, taking turns
--runs times so that load from elsewhere hits both about equally. It prints the median
images/second of each, the ratio, and every run.

    python3 bench/ort_compare.py                                  # fashion-cnn, batches 1,32,256, threads 1,2
    python3 bench/ort_compare.py --models fashion-cnn,resnet-small --runs 5 --seconds 3

Needs node and tools/ort's npm package (cd tools/ort && npm install --ignore-scripts).
convgraph is built once from this checkout unless --convgraph names a binary.
"""
import argparse
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="fashion-cnn")
    ap.add_argument("--batches", default="1,32,256")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--convgraph", default="", help="a convgraph binary (default: build one)")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="ort-compare-")
    binary = a.convgraph
    if not binary:
        binary = os.path.join(tmp, "convgraph")
        subprocess.run(["go", "build", "-o", binary, "./cmd/convgraph"], check=True, cwd=ROOT)
    rows = []
    for model in a.models.split(","):
        onnx_path = os.path.join(tmp, model + ".onnx")
        subprocess.run([binary, "export", "--model", model, "--pretrained", "-o", onnx_path],
                       check=True, cwd=ROOT, capture_output=True)
        for threads in [int(t) for t in a.threads.split(",")]:
            for batch in [int(b) for b in a.batches.split(",")]:
                x_path = os.path.join(tmp, "x.f32")
                rnd = random.Random(1)
                n = batch * 28 * 28
                with open(x_path, "wb") as f:
                    f.write(struct.pack("<%df" % n, *[rnd.random() for _ in range(n)]))
                cg, ort = [], []
                for i in range(a.runs):
                    r = run_json([binary, "bench", "--model", model, "--batch", "1", "--infer-batch", str(batch),
                                  "--threads", str(threads), "--seconds", str(a.seconds), "--warmup", "2", "--json"])
                    cg.append(r["infer_img_per_s"])
                    r = run_json(["node", os.path.join(ROOT, "tools", "ort", "run.js"), onnx_path, x_path,
                                  "%d,28,28,1" % batch, "--threads", str(threads), "--bench", "3",
                                  "--seconds", str(a.seconds)])
                    ort.append(batch * len(r["ms"]) / (sum(r["ms"]) / 1000))
                    print(f"  {model} batch {batch} threads {threads} run {i + 1}: convgraph {cg[-1]:.0f}, "
                          f"ONNX Runtime {ort[-1]:.0f} images/s", file=sys.stderr, flush=True)
                rows.append((model, batch, threads, cg, ort, r.get("path")))
    print(f"inference, images/second: medians of {a.runs} alternating runs of >= {a.seconds:g} s each")
    print()
    print("| model | batch | threads | convgraph | ONNX Runtime | convgraph / ORT |")
    print("|---|---|---|---|---|---|")
    for model, batch, threads, cg, ort, _ in rows:
        c, o = statistics.median(cg), statistics.median(ort)
        print(f"| {model} | {batch} | {threads} | {c:,.0f} | {o:,.0f} | {c / o:.2f}x |")
    print()
    print("every run (convgraph | ONNX Runtime):")
    for model, batch, threads, cg, ort, _ in rows:
        print(f"  {model} batch {batch} threads {threads}: " + " ".join(f"{v:.0f}" for v in cg)
              + " | " + " ".join(f"{v:.0f}" for v in ort))


if __name__ == "__main__":
    main()
