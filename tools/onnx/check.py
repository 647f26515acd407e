#!/usr/bin/python3
"""Check ONNX files with the reference checker and print what they declare.

    /usr/bin/python3 tools/onnx/check.py MODEL.onnx...

Runs onnx.checker.check_model(full_check=True) (which also runs ONNX's shape inference)
on each file and prints one JSON object per file: its path, IR version, opsets, input and
output shapes, op types and metadata properties. Exits 1 with the checker's message if a
file fails. Needs Debian's python3-onnx; use /usr/bin/python3, since a pyenv python3 on
PATH may lack it.
"""

import json
import sys

import onnx


def dims(vi):
    return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]


def main():
    for path in sys.argv[1:]:
        m = onnx.load(path)
        try:
            onnx.checker.check_model(m, full_check=True)
        except Exception as e:  # the checker raises several types
            print("%s: %s" % (path, str(e).replace("\n", " ")), file=sys.stderr)
            sys.exit(1)
        print(json.dumps({
            "path": path,
            "ir_version": m.ir_version,
            "opsets": {o.domain or "ai.onnx": o.version for o in m.opset_import},
            "inputs": {i.name: dims(i) for i in m.graph.input},
            "outputs": {o.name: dims(o) for o in m.graph.output},
            "ops": sorted({n.op_type for n in m.graph.node}),
            "metadata": {p.key: p.value for p in m.metadata_props},
        }, sort_keys=True))


if __name__ == "__main__":
    main()
