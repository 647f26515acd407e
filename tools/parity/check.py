#!/usr/bin/python3
"""Sanity-check testdata/parity: re-read every fixture with an independent
reader, check it against index.json, and re-run every case in float32 to show
how far a plain float32 implementation lands from the float64 references.

    /usr/bin/python3 tools/parity/check.py
"""

import json
import os
import sys
import tempfile

import numpy as np
import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

DIR = os.path.join("testdata", "parity")


def main():
    with open(os.path.join(DIR, "index.json")) as f:
        index = json.load(f)
    ref = {}
    for e in index["cases"]:
        meta, ts = gen.read_safetensors(os.path.join(DIR, e["file"]))
        assert set(meta) == {"op", "params"}, meta
        assert meta["op"] == e["op"] and json.loads(meta["params"]) == e["params"], e["name"]
        for k, info in e["tensors"].items():
            assert list(ts[k].shape) == info["shape"], (e["name"], k)
            assert {"<f4": "F32", "<i8": "I64"}[ts[k].dtype.str] == info["dtype"]
            if info["dtype"] == "F32":
                assert np.isfinite(ts[k]).all(), (e["name"], k)
        ref[e["name"]] = ts
    print("read %d fixtures OK" % len(ref))

    # Float32 re-run: same seeds, same inputs, computation in float32.
    gen.DT = torch.float32
    worst_all = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        gen.OUT_DIR = tmp
        gen.INDEX.clear()
        for name, fn in gen.CASES:
            gen.run_case(name, fn)
            _, got = gen.read_safetensors(os.path.join(tmp, name + ".safetensors"))
            worst, where, need_atol = 0.0, "", 0.0
            for k, r in ref[name].items():
                g = got[k]
                if r.dtype == np.int64:
                    assert (g == r).all(), (name, k)
                    continue
                r64, g64 = r.astype(np.float64), g.astype(np.float64)
                # error relative to the tensor's scale (max |ref|), the usual
                # "rtol with an absolute floor" used by parity tests
                scale = max(np.abs(r64).max(), 1e-30)
                err = np.abs(g64 - r64).max() / scale
                # absolute floor a test with rtol=1e-4 would need for this tensor
                need_atol = max(need_atol, float((np.abs(g64 - r64) - 1e-4 * np.abs(r64)).max()))
                if err > worst:
                    worst, where = err, k
            worst_all = max(worst_all, worst)
            print(
                "%-30s float32 vs ref: max|diff|/max|ref| = %.1e (%s); atol needed with rtol 1e-4: %.1e"
                % (name, worst, where, max(need_atol, 0.0))
            )
    print("worst overall: %.2e" % worst_all)


if __name__ == "__main__":
    main()
