#!/usr/bin/env bash
# The recipe for the zoo's pretrained weights: train each model on the full Fashion-MNIST
# training set, evaluate it on the full test set, and write the shipped weights file.
# Usage: tools/zooweights/recipe.sh [MODEL...]   (default: every model with weights)
# Needs the full data set (Debian's dataset-fashion-mnist, or --data-dir via CONVGRAPH_DATA).
set -euo pipefail
cd "$(dirname "$0")/../.."
go build -o /tmp/convgraph-recipe ./cmd/convgraph
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(fashion-cnn alexnet-small resnet-small mobilenet-small)
for m in "${models[@]}"; do
  polish=() # a last few epochs on the unaugmented images at a low learning rate
  case "$m" in
    fashion-cnn)   flags=(--epochs 12) ;;
    alexnet-small) flags=(--epochs 30 --augment --schedule cosine); polish=(--epochs 3 --lr 1e-4) ;;
    resnet-small)  flags=(--epochs 20 --augment --schedule cosine) ;;
    mobilenet-small) flags=(--epochs 12 --schedule cosine) ;;
    *) echo "recipe: no recipe for $m" >&2; exit 2 ;;
  esac
  out="runs/zoo-$m"
  /tmp/convgraph-recipe train --model "$m" --validation-split 0 --seed 1 --out "$out" --overwrite "${flags[@]}"
  if [ ${#polish[@]} -gt 0 ]; then
    /tmp/convgraph-recipe eval --checkpoint "$out/model.safetensors" --json
    /tmp/convgraph-recipe finetune --from "$out/model.safetensors" --freeze none --keep-head --dataset fashion-mnist \
      --seed 1 --out "$out/polish" --overwrite --json "${polish[@]}"
    out="$out/polish"
  fi
  /tmp/convgraph-recipe eval --checkpoint "$out/model.safetensors" --json
  go run ./tools/zooweights -in "$out/model.safetensors" -out "zoo/weights/$m.safetensors"
done
