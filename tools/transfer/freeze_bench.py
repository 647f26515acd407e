"""Times training with and without a frozen backbone (`convgraph bench --freeze`): three
alternating runs per case, medians; prints the Markdown table of docs/transfer-learning.md.

    go build -o /tmp/convgraph ./cmd/convgraph && python3 tools/transfer/freeze_bench.py /tmp/convgraph
"""
import json, subprocess, statistics, sys
bin = sys.argv[1]
cases = [("alexnet-small", ""), ("alexnet-small", "upto:pool3"), ("alexnet-small", "backbone"),
         ("resnet-small", ""), ("resnet-small", "backbone")]
runs = {c: [] for c in cases}
for r in range(3):
    for m, fr in cases:
        args = [bin, "bench", "--model", m, "--batch", "32", "--infer-batch", "32", "--threads", "2", "--seconds", "3", "--json"]
        if fr:
            args += ["--freeze", fr]
        out = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
        runs[(m, fr)].append((out["train_img_per_s"], out["trainable_params"]))
print("| model | frozen | trainable params | train img/s (median of 3) | runs | vs nothing frozen |")
print("|---|---|---|---|---|---|")
base = {}
for m, fr in cases:
    med = statistics.median(v for v, _ in runs[(m, fr)])
    if not fr:
        base[m] = med
    print("| %s | %s | %s | %.0f | %s | %.2fx |" % (m, fr or "nothing", format(runs[(m, fr)][0][1], ","), med,
          " ".join("%.0f" % v for v, _ in runs[(m, fr)]), med / base[m]))
