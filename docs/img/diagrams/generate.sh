#!/usr/bin/env bash
# Regenerates the pictures of docs/diagrams.md. Run from anywhere:
#   bash docs/img/diagrams/generate.sh
# Diagrams are drawn with the built-in renderer (--renderer go: Graphviz 12.1.2 compiled to
# WebAssembly), so they come out the same on every machine, Graphviz installed or not.
# sample-dress.png is test image 1 of the bundled Fashion-MNIST sample (data.Sample).
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=docs/img/diagrams
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/convgraph" ./cmd/convgraph
cg="$tmp/convgraph"

for m in $("$cg" zoo list --json | tr '{' '\n' | sed -n 's/.*"name":"\([^"]*\)".*/\1/p'); do
  "$cg" dot --model "$m" --renderer go -o "$out/$m-layers.svg"
  "$cg" dot --model "$m" --view ops --renderer go -o "$out/$m-ops.svg"
done
"$cg" dot --model resnet-small --collapse --show-trainable --rankdir LR --renderer go -o "$out/resnet-small-collapsed.svg"
"$cg" dot --model fashion-cnn --view ops --grads --renderer go -o "$out/fashion-cnn-ops-grads.svg"
"$cg" dot --model fashion-cnn --view ops --grads --renderer go -o "$out/fashion-cnn-ops-grads.png"

"$cg" viz filters --model fashion-cnn --pretrained --layer conv2d -o "$out/fashion-cnn-filters-conv2d.png"
"$cg" viz filters --model fashion-cnn --pretrained --layer conv2d_1 -o "$out/fashion-cnn-filters-conv2d_1.png"
for layer in conv2d max_pooling2d conv2d_1 max_pooling2d_1; do
  "$cg" viz features --model fashion-cnn --pretrained --layer "$layer" --image "$out/sample-dress.png" \
    -o "$out/fashion-cnn-features-$layer.png"
done
