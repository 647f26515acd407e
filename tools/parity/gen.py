#!/usr/bin/python3
"""Write PyTorch reference fixtures for convgraph's op parity tests.

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 tools/parity/gen.py

One safetensors file per case is written to testdata/parity/<case>.safetensors,
plus testdata/parity/index.json. See tools/parity/README.md for the conventions.

All inputs are drawn as float32 (so the stored values are exact), the reference
computation is done in float64 on those values, and outputs/gradients are rounded
to float32 only when stored.
"""

import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join("testdata", "parity")
DT = torch.float64

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# ---------------------------------------------------------------------------
# safetensors writer / reader (minimal, no external package)
# ---------------------------------------------------------------------------


def _dumps(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def write_safetensors(path, tensors, metadata):
    """tensors: name -> torch.Tensor (floating -> F32, int64 -> I64)."""
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if t.dtype.is_floating_point:
            arr, dtype = t.to(torch.float32).numpy().astype("<f4"), "F32"
        elif t.dtype == torch.int64:
            arr, dtype = t.numpy().astype("<i8"), "I64"
        else:
            raise TypeError("%s: unsupported dtype %s" % (name, t.dtype))
        data = arr.tobytes(order="C")
        header[name] = {
            "dtype": dtype,
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    hdr = _dumps(header).encode("utf-8")
    hdr += b" " * ((-len(hdr)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Returns (metadata dict, name -> numpy array). Validates layout strictly."""
    import numpy as np

    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header length not a multiple of 8"
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = raw[8 + n :]
    meta = header.pop("__metadata__", {})
    out = {}
    spans = []
    for name, info in header.items():
        dt = {"F32": "<f4", "I64": "<i8"}[info["dtype"]]
        b, e = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        assert e - b == count * np.dtype(dt).itemsize, name
        out[name] = np.frombuffer(data[b:e], dtype=dt).reshape(info["shape"])
        spans.append((b, e))
    spans.sort()
    pos = 0
    for b, e in spans:
        assert b == pos, "gap/overlap in data section"
        pos = e
    assert pos == len(data), "trailing bytes after data section"
    return meta, out


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

INDEX = []


def randn(*shape):
    """Random normal, drawn in float32 (exactly storable), returned as float64."""
    return torch.randn(*shape, dtype=torch.float32).to(DT)


def rand_uniform(shape, lo, hi):
    return (torch.rand(*shape, dtype=torch.float32) * (hi - lo) + lo).to(DT)


def away_from_zero(x, margin=1e-2):
    """Push values within `margin` of 0 out to +-(margin+0.05) (kinks of relu)."""
    sign = torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))
    return torch.where(x.abs() < margin, sign * (margin + 0.05), x).to(torch.float32).to(DT)


def glorot(shape, fan_in, fan_out):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rand_uniform(shape, -limit, limit)


def same_pad_1d(i, k, s, d):
    out = -(-i // s)  # ceil
    total = max((out - 1) * s + (k - 1) * d + 1 - i, 0)
    return total // 2, total - total // 2


def resolve_pad(padding, hw, kernel, strides, dilation=(1, 1)):
    """Returns explicit [top, bottom, left, right] (TensorFlow/Keras convention)."""
    if padding == "valid":
        return [0, 0, 0, 0]
    if padding == "same":
        t, b = same_pad_1d(hw[0], kernel[0], strides[0], dilation[0])
        l, r = same_pad_1d(hw[1], kernel[1], strides[1], dilation[1])
        return [t, b, l, r]
    assert len(padding) == 4
    return list(padding)


def tfpad(x, pad, value=0.0):
    t, b, l, r = pad
    return F.pad(x, (l, r, t, b), mode="constant", value=value)


def _tol():
    return 1e-10 if DT == torch.float64 else 1e-4


def leaf(t):
    return t.clone().requires_grad_(True)


def save(name, op, params, tensors):
    params_s = _dumps(params)
    path = os.path.join(OUT_DIR, name + ".safetensors")
    for k, v in tensors.items():
        if v.dtype.is_floating_point:
            assert torch.isfinite(v).all(), "%s/%s not finite" % (name, k)
    write_safetensors(path, tensors, {"op": op, "params": params_s})
    INDEX.append(
        {
            "name": name,
            "file": name + ".safetensors",
            "op": op,
            "params": params,
            "tensors": {
                k: {
                    "dtype": "F32" if v.dtype.is_floating_point else "I64",
                    "shape": list(v.shape),
                }
                for k, v in sorted(tensors.items())
            },
        }
    )


def run_case(name, fn):
    torch.manual_seed(0)
    fn(name)


def unary_case(name, op, params, fn, x):
    xl = leaf(x)
    y = fn(xl)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    save(name, op, params, {"x": x, "y": y, "dy": dy, "grad_x": xl.grad})


# ---------------------------------------------------------------------------
# ops
# ---------------------------------------------------------------------------


def conv_op(x, w, b, pad, strides, dilation):
    return F.conv2d(tfpad(x, pad), w, b, stride=tuple(strides), padding=0, dilation=tuple(dilation))


def conv_case(name, n, c, h, w_, f, kernel, strides, padding, dilation=(1, 1), use_bias=True):
    x = randn(n, c, h, w_)
    w = randn(f, c, kernel[0], kernel[1])
    b = randn(f) if use_bias else None
    pad = resolve_pad(padding, (h, w_), kernel, strides, dilation)
    xl, wl = leaf(x), leaf(w)
    bl = leaf(b) if use_bias else None
    y = conv_op(xl, wl, bl, pad, strides, dilation)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    # Cross-check against torch's own (symmetric) padding where it is expressible.
    if pad[0] == pad[1] and pad[2] == pad[3]:
        y2 = F.conv2d(x, w, b, stride=tuple(strides), padding=(pad[0], pad[2]), dilation=tuple(dilation))
        assert torch.allclose(y.detach(), y2, rtol=_tol(), atol=_tol())
    params = {
        "filters": f,
        "kernel": list(kernel),
        "strides": list(strides),
        "dilation": list(dilation),
        "padding": padding if isinstance(padding, str) else "explicit",
        "pad": pad,
        "use_bias": use_bias,
    }
    t = {"x": x, "w": w, "y": y, "dy": dy, "grad_x": xl.grad, "grad_w": wl.grad}
    if use_bias:
        t["b"] = b
        t["grad_b"] = bl.grad
    save(name, "conv2d", params, t)


def maxpool_op(x, pad, kernel, strides):
    return F.max_pool2d(tfpad(x, pad, value=-math.inf), tuple(kernel), tuple(strides), padding=0)


def avgpool_op(x, pad, kernel, strides):
    """Average over the cells inside the input only (count_include_pad=False)."""
    kk = kernel[0] * kernel[1]
    s = F.avg_pool2d(tfpad(x, pad), tuple(kernel), tuple(strides), padding=0) * kk
    ones = torch.ones_like(x[:1, :1])
    cnt = F.avg_pool2d(tfpad(ones, pad), tuple(kernel), tuple(strides), padding=0) * kk
    return s / cnt.round()


def avgpool_loop(x, pad, kernel, strides):
    """Slow explicit reference used only to cross-check avgpool_op."""
    n, c, h, w = x.shape
    t, b, l, r = pad
    oh = (h + t + b - kernel[0]) // strides[0] + 1
    ow = (w + l + r - kernel[1]) // strides[1] + 1
    y = torch.zeros(n, c, oh, ow, dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            h0 = max(i * strides[0] - t, 0)
            h1 = min(i * strides[0] - t + kernel[0], h)
            w0 = max(j * strides[1] - l, 0)
            w1 = min(j * strides[1] - l + kernel[1], w)
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(dim=(2, 3))
    return y


def pool_case(name, kind, n, c, h, w, kernel, strides, padding):
    x = randn(n, c, h, w)
    pad = resolve_pad(padding, (h, w), kernel, strides)
    xl = leaf(x)
    if kind == "max":
        y = maxpool_op(xl, pad, kernel, strides)
        op = "maxpool2d"
    else:
        y = avgpool_op(xl, pad, kernel, strides)
        assert torch.allclose(y.detach(), avgpool_loop(x, pad, kernel, strides), rtol=_tol(), atol=_tol())
        op = "avgpool2d"
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    params = {
        "pool": list(kernel),
        "strides": list(strides),
        "padding": padding if isinstance(padding, str) else "explicit",
        "pad": pad,
    }
    if kind == "avg":
        params["count_include_pad"] = False
    save(name, op, params, {"x": x, "y": y, "dy": dy, "grad_x": xl.grad})


def batchnorm_ref(x, gamma, beta, rm, rv, eps, momentum, training):
    """Explicit batch norm over every axis except 1. Returns y, new_rm, new_rv."""
    axes = [0] + list(range(2, x.dim()))
    shape = [1, -1] + [1] * (x.dim() - 2)
    if training:
        mean = x.mean(dim=axes)
        var = x.var(dim=axes, unbiased=False)
        m = x.numel() // x.shape[1]
        new_rm = momentum * rm + (1 - momentum) * mean.detach()
        new_rv = momentum * rv + (1 - momentum) * var.detach() * m / (m - 1)
    else:
        mean, var = rm, rv
        new_rm, new_rv = rm, rv
    y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps) * gamma.view(shape) + beta.view(shape)
    return y, new_rm, new_rv


def batchnorm_case(name, shape, training):
    eps, momentum = 1e-3, 0.99
    c = shape[1]
    x = randn(*shape)
    gamma = (1.0 + 0.2 * randn(c)).to(torch.float32).to(DT)
    beta = (0.2 * randn(c)).to(torch.float32).to(DT)
    running_mean = (0.5 * randn(c)).to(torch.float32).to(DT)
    running_var = rand_uniform((c,), 0.5, 2.0)
    xl, gl, bl = leaf(x), leaf(gamma), leaf(beta)
    y, nrm, nrv = batchnorm_ref(xl, gl, bl, running_mean, running_var, eps, momentum, training)
    # Cross-check with torch's batch_norm (torch momentum = 1 - Keras momentum).
    rm2, rv2 = running_mean.clone(), running_var.clone()
    y2 = F.batch_norm(x, rm2, rv2, gamma, beta, training=training, momentum=1 - momentum, eps=eps)
    assert torch.allclose(y.detach(), y2, rtol=_tol(), atol=_tol())
    assert torch.allclose(nrm, rm2, rtol=_tol(), atol=_tol())
    assert torch.allclose(nrv, rv2, rtol=_tol(), atol=_tol())
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    params = {
        "eps": eps,
        "momentum": momentum,
        "training": training,
        "axis": 1,
        "running_var_update": "unbiased",
    }
    t = {
        "x": x,
        "gamma": gamma,
        "beta": beta,
        "running_mean": running_mean,
        "running_var": running_var,
        "y": y,
        "dy": dy,
        "grad_x": xl.grad,
        "grad_gamma": gl.grad,
        "grad_beta": bl.grad,
    }
    if training:
        t["new_running_mean"] = nrm
        t["new_running_var"] = nrv
    save(name, "batchnorm", params, t)


# ---------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------


def c_conv2d_same_s1(name):
    conv_case(name, 2, 3, 7, 7, 4, (3, 3), (1, 1), "same")


def c_conv2d_valid_s2_odd(name):
    conv_case(name, 2, 2, 8, 9, 3, (3, 3), (2, 2), "valid", use_bias=False)


def c_conv2d_same_s2_asym(name):
    conv_case(name, 2, 3, 8, 8, 2, (3, 3), (2, 2), "same")


def c_conv2d_dilation2(name):
    conv_case(name, 1, 2, 9, 9, 2, (3, 3), (1, 1), "valid", dilation=(2, 2))


def c_conv2d_batch1_kernel_eq_input(name):
    conv_case(name, 1, 1, 5, 5, 1, (5, 5), (1, 1), "valid")


def c_conv2d_rect_explicit(name):
    conv_case(name, 2, 2, 6, 7, 3, (2, 3), (1, 2), [1, 0, 2, 1])


def c_conv2d_1x1(name):
    conv_case(name, 2, 4, 5, 5, 3, (1, 1), (1, 1), "valid")


def c_maxpool_2x2_s2(name):
    pool_case(name, "max", 2, 3, 6, 6, (2, 2), (2, 2), "valid")


def c_maxpool_3x3_s2_same(name):
    pool_case(name, "max", 2, 2, 7, 7, (3, 3), (2, 2), "same")


def c_maxpool_2x2_s2_odd_valid(name):
    pool_case(name, "max", 1, 2, 7, 7, (2, 2), (2, 2), "valid")


def c_maxpool_3x3_s1_same(name):
    pool_case(name, "max", 2, 1, 5, 5, (3, 3), (1, 1), "same")


def c_avgpool_2x2_s2(name):
    pool_case(name, "avg", 2, 3, 6, 6, (2, 2), (2, 2), "valid")


def c_avgpool_3x3_s2_same(name):
    pool_case(name, "avg", 2, 2, 7, 7, (3, 3), (2, 2), "same")


def c_avgpool_3x3_s1_same(name):
    pool_case(name, "avg", 1, 2, 5, 5, (3, 3), (1, 1), "same")


def c_global_avgpool(name):
    unary_case(name, "global_avgpool2d", {}, lambda x: x.mean(dim=(2, 3)), randn(2, 3, 4, 5))


def c_dense(name):
    x, w, b = randn(4, 6), randn(6, 5), randn(5)
    xl, wl, bl = leaf(x), leaf(w), leaf(b)
    y = xl @ wl + bl
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    save(
        name,
        "dense",
        {"units": 5, "use_bias": True},
        {"x": x, "w": w, "b": b, "y": y, "dy": dy, "grad_x": xl.grad, "grad_w": wl.grad, "grad_b": bl.grad},
    )


def c_bias_add_4d(name):
    x, b = randn(2, 3, 4, 4), randn(3)
    xl, bl = leaf(x), leaf(b)
    y = xl + bl.view(1, -1, 1, 1)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    save(name, "bias_add", {"axis": 1}, {"x": x, "b": b, "y": y, "dy": dy, "grad_x": xl.grad, "grad_b": bl.grad})


def c_relu(name):
    unary_case(name, "relu", {}, F.relu, away_from_zero(randn(3, 7)))


def c_leaky_relu(name):
    unary_case(name, "leaky_relu", {"alpha": 0.3}, lambda x: F.leaky_relu(x, 0.3), away_from_zero(randn(3, 7)))


def c_sigmoid(name):
    unary_case(name, "sigmoid", {}, torch.sigmoid, randn(3, 7))


def c_tanh(name):
    unary_case(name, "tanh", {}, torch.tanh, randn(3, 7))


def c_softmax(name):
    unary_case(name, "softmax", {"axis": -1}, lambda x: F.softmax(x, dim=-1), randn(4, 10))


def c_softmax_large(name):
    # rows 0,1: logits ~1e3; rows 2,3: logits ~1e4
    scale = torch.tensor([1e3, 1e3, 1e4, 1e4], dtype=DT).view(4, 1)
    x = (randn(4, 10) * scale).to(torch.float32).to(DT)
    unary_case(name, "softmax", {"axis": -1}, lambda x: F.softmax(x, dim=-1), x)


def xent_case(name, x):
    labels = torch.randint(0, x.shape[1], (x.shape[0],), dtype=torch.int64)
    xl = leaf(x)
    y = F.cross_entropy(xl, labels, reduction="mean")
    y.backward()
    save(name, "softmax_xent", {"reduction": "mean", "axis": -1}, {"x": x, "labels": labels, "y": y, "grad_x": xl.grad})


def c_softmax_xent(name):
    xent_case(name, randn(5, 10))


def c_softmax_xent_large(name):
    xent_case(name, (randn(5, 10) * 1e4).to(torch.float32).to(DT))


def c_mse(name):
    x, target = randn(4, 3), randn(4, 3)
    xl = leaf(x)
    y = ((xl - target) ** 2).mean()
    y.backward()
    save(name, "mse", {"reduction": "mean"}, {"x": x, "target": target, "y": y, "grad_x": xl.grad})


def loss_case(name, op, params, x, target, per_example, weights=None):
    """A scalar loss: mean over the batch of per_example(x, target) (each example's loss,
    its elements averaged), each example weighted when weights is given (Keras's
    sample_weight: sum(w * loss) / N)."""
    xl = leaf(x)
    per = per_example(xl, target)
    tensors = {"x": x, "target": target}
    if weights is not None:
        per = per * weights
        tensors["weights"] = weights
    y = per.sum() / x.shape[0]
    y.backward()
    tensors.update({"y": y, "grad_x": xl.grad})
    save(name, op, dict(params, reduction="mean"), tensors)


def per_elem(fn):
    """Per-example mean of an elementwise loss fn(x, target)."""
    return lambda x, t: fn(x, t).flatten(1).mean(1)


def c_sparse_xent_smoothing(name):
    x = randn(6, 5)
    labels = torch.randint(0, 5, (6,), dtype=torch.int64)
    xl = leaf(x)
    y = F.cross_entropy(xl, labels, reduction="mean", label_smoothing=0.1)
    y.backward()
    save(name, "softmax_xent", {"reduction": "mean", "axis": -1, "label_smoothing": 0.1},
         {"x": x, "labels": labels, "y": y, "grad_x": xl.grad})


def c_sparse_xent_weighted(name):
    x = randn(6, 5)
    labels = torch.randint(0, 5, (6,), dtype=torch.int64)
    w = rand_uniform((6,), 0.2, 3.0)
    xl = leaf(x)
    per = F.cross_entropy(xl, labels, reduction="none", label_smoothing=0.2)
    y = (per * w).sum() / 6
    y.backward()
    save(name, "softmax_xent", {"reduction": "mean", "axis": -1, "label_smoothing": 0.2},
         {"x": x, "labels": labels, "weights": w, "y": y, "grad_x": xl.grad})


def c_cce_onehot(name):
    x = randn(6, 5)
    t = F.one_hot(torch.randint(0, 5, (6,)), 5).to(DT)
    loss_case(name, "cce", {"label_smoothing": 0.0}, x, t,
              lambda x, t: F.cross_entropy(x, t, reduction="none"))


def c_cce_onehot_smoothing(name):
    x = randn(6, 5)
    t = F.one_hot(torch.randint(0, 5, (6,)), 5).to(DT)
    loss_case(name, "cce", {"label_smoothing": 0.1}, x, t,
              lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.1))


def c_cce_weighted(name):
    x = randn(6, 5)
    t = F.one_hot(torch.randint(0, 5, (6,)), 5).to(DT)
    loss_case(name, "cce", {"label_smoothing": 0.1}, x, t,
              lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.1),
              weights=rand_uniform((6,), 0.2, 3.0))


def c_bce_logits(name):
    x = randn(6, 3) * 3
    t = torch.randint(0, 2, (6, 3)).to(DT)
    loss_case(name, "bce_logits", {"label_smoothing": 0.0}, x.to(torch.float32).to(DT), t,
              per_elem(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none")))


def c_bce_logits_smoothing_weighted(name):
    x = randn(6, 3) * 3
    t = torch.randint(0, 2, (6, 3)).to(DT)
    s = 0.1
    loss_case(name, "bce_logits", {"label_smoothing": s}, x.to(torch.float32).to(DT), t,
              per_elem(lambda x, t: F.binary_cross_entropy_with_logits(x, t * (1 - s) + s / 2, reduction="none")),
              weights=rand_uniform((6,), 0.2, 3.0))


def c_bce_probs(name):
    p = rand_uniform((6, 3), 0.02, 0.98)
    t = torch.randint(0, 2, (6, 3)).to(DT)
    loss_case(name, "bce", {"label_smoothing": 0.0}, p, t,
              per_elem(lambda x, t: F.binary_cross_entropy(x, t, reduction="none")))


def c_mae(name):
    x, t = randn(4, 3), randn(4, 3)
    loss_case(name, "mae", {}, x, t, per_elem(lambda x, t: F.l1_loss(x, t, reduction="none")))


def c_mae_images_weighted(name):
    x, t = randn(3, 2, 4, 4), randn(3, 2, 4, 4)
    loss_case(name, "mae", {}, x, t, per_elem(lambda x, t: F.l1_loss(x, t, reduction="none")),
              weights=rand_uniform((3,), 0.2, 3.0))


def c_huber(name):
    x, t = randn(5, 4) * 2, randn(5, 4)
    loss_case(name, "huber", {"delta": 1.0}, x.to(torch.float32).to(DT), t,
              per_elem(lambda x, t: F.huber_loss(x, t, reduction="none", delta=1.0)))


def c_huber_delta_weighted(name):
    x, t = randn(5, 4) * 2, randn(5, 4)
    loss_case(name, "huber", {"delta": 0.7}, x.to(torch.float32).to(DT), t,
              per_elem(lambda x, t: F.huber_loss(x, t, reduction="none", delta=0.7)),
              weights=rand_uniform((5,), 0.2, 3.0))


def c_mse_weighted(name):
    x, t = randn(4, 3), randn(4, 3)
    loss_case(name, "mse", {}, x, t, per_elem(lambda x, t: F.mse_loss(x, t, reduction="none")),
              weights=rand_uniform((4,), 0.2, 3.0))


def c_add(name):
    x, x2 = randn(2, 3, 4, 4), randn(2, 3, 4, 4)
    xl, x2l = leaf(x), leaf(x2)
    y = xl + x2l
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    save(name, "add", {}, {"x": x, "x2": x2, "y": y, "dy": dy, "grad_x": xl.grad, "grad_x2": x2l.grad})


def c_flatten(name):
    unary_case(name, "flatten", {"order": "CHW"}, lambda x: torch.flatten(x, 1), randn(2, 3, 4, 4))


def c_batchnorm_train(name):
    batchnorm_case(name, (4, 3, 5, 5), True)


def c_batchnorm_eval(name):
    batchnorm_case(name, (4, 3, 5, 5), False)


def c_batchnorm_2d_train(name):
    batchnorm_case(name, (6, 4), True)


# --- the layers of small modern CNNs ---------------------------------------


def c_relu6(name):
    # Values spread over both kinks (0 and 6), kept away from them.
    x = away_from_zero(randn(3, 7) * 4)
    x = torch.where((x - 6).abs() < 0.06, x + 0.2, x).to(torch.float32).to(DT)
    unary_case(name, "relu6", {}, lambda x: F.hardtanh(x, 0.0, 6.0), x)


def c_elu(name):
    unary_case(name, "elu", {"alpha": 1.0}, lambda x: F.elu(x, 1.0), randn(3, 7))


def c_elu_alpha(name):
    unary_case(name, "elu", {"alpha": 0.5}, lambda x: F.elu(x, 0.5), randn(2, 3, 3, 3))


def c_gelu(name):
    unary_case(name, "gelu", {"approximate": "none"}, lambda x: F.gelu(x), randn(3, 7) * 2)


def c_silu(name):
    unary_case(name, "silu", {}, F.silu, randn(2, 3, 3, 3) * 2)


def c_softmax_channels(name):
    # Softmax over the channels of NCHW images at every pixel (Keras's axis -1 on NHWC).
    unary_case(name, "softmax_axis", {"axis": 1}, lambda x: F.softmax(x, dim=1), randn(2, 4, 3, 5) * 3)


def c_softmax_rows(name):
    # Softmax over the rows (H) of NCHW images.
    unary_case(name, "softmax_axis", {"axis": 2}, lambda x: F.softmax(x, dim=2), randn(2, 2, 5, 3) * 3)


def c_zero_pad2d(name):
    pad = [1, 2, 0, 3]
    unary_case(name, "zero_pad2d", {"pad": pad}, lambda x: tfpad(x, pad), randn(2, 3, 4, 5))


def c_crop2d(name):
    pad = [1, 0, 2, 1]

    def crop(x):
        t, b, l, r = pad
        return x[:, :, t : x.shape[2] - b, l : x.shape[3] - r]

    unary_case(name, "crop2d", {"pad": pad}, crop, randn(2, 3, 5, 6))


def c_reshape(name):
    # NCHW [2, 3, 4, 4] to [2, 6, 2, 4]: values keep their C,H,W order (torch's view).
    unary_case(name, "reshape", {"target_shape": [2, 6, 2, 4], "order": "CHW"}, lambda x: x.reshape(2, 6, 2, 4), randn(2, 3, 4, 4))


def depthwise_case(name, n, c, h, w_, mult, kernel, strides, padding, dilation=(1, 1), use_bias=True):
    x = randn(n, c, h, w_)
    w = randn(c * mult, 1, kernel[0], kernel[1])
    b = randn(c * mult) if use_bias else None
    pad = resolve_pad(padding, (h, w_), kernel, strides, dilation)
    xl, wl = leaf(x), leaf(w)
    bl = leaf(b) if use_bias else None
    y = F.conv2d(tfpad(xl, pad), wl, bl, stride=tuple(strides), dilation=tuple(dilation), groups=c)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    params = {
        "depth_multiplier": mult,
        "kernel": list(kernel),
        "strides": list(strides),
        "dilation": list(dilation),
        "padding": padding if isinstance(padding, str) else "explicit",
        "pad": pad,
        "use_bias": use_bias,
    }
    t = {"x": x, "w": w, "y": y, "dy": dy, "grad_x": xl.grad, "grad_w": wl.grad}
    if use_bias:
        t["b"] = b
        t["grad_b"] = bl.grad
    save(name, "depthwise_conv2d", params, t)


def c_depthwise_same_s1(name):
    depthwise_case(name, 2, 3, 7, 7, 1, (3, 3), (1, 1), "same")


def c_depthwise_valid_s2_mult2(name):
    depthwise_case(name, 2, 2, 8, 9, 2, (3, 3), (2, 2), "valid", use_bias=False)


def c_depthwise_same_s2_asym(name):
    depthwise_case(name, 2, 4, 8, 8, 1, (3, 3), (2, 2), "same")


def c_depthwise_dilation2_mult3(name):
    depthwise_case(name, 1, 2, 9, 9, 3, (3, 3), (1, 1), "same", dilation=(2, 2))


def c_depthwise_rect_explicit(name):
    depthwise_case(name, 2, 2, 6, 7, 2, (2, 3), (1, 2), [1, 0, 2, 1])


def c_upsample_nearest(name):
    unary_case(name, "upsample2d", {"size": [2, 3], "interpolation": "nearest"},
               lambda x: F.interpolate(x, scale_factor=(2, 3), mode="nearest"), randn(2, 3, 4, 5))


def c_upsample_bilinear(name):
    unary_case(name, "upsample2d", {"size": [2, 2], "interpolation": "bilinear"},
               lambda x: F.interpolate(x, scale_factor=(2, 2), mode="bilinear", align_corners=False), randn(2, 3, 4, 5))


def c_upsample_bilinear_rect(name):
    unary_case(name, "upsample2d", {"size": [3, 2], "interpolation": "bilinear"},
               lambda x: F.interpolate(x, scale_factor=(3, 2), mode="bilinear", align_corners=False), randn(1, 2, 3, 4))


def conv_transpose_case(name, n, c, h, w_, f, kernel, strides, padding, dilation=(1, 1), use_bias=True):
    """Keras's Conv2DTranspose: the input gradient of the convolution that maps the output
    (valid: (i-1)*s + dilated kernel; same: i*s, TF-style pads of that size) back to x."""
    keff = [dilation[i] * (kernel[i] - 1) + 1 for i in range(2)]
    if padding == "same":
        out = (h * strides[0], w_ * strides[1])
    else:
        out = ((h - 1) * strides[0] + keff[0], (w_ - 1) * strides[1] + keff[1])
    pad = resolve_pad(padding, out, kernel, strides, dilation)
    x = randn(n, c, h, w_)
    w = randn(c, f, kernel[0], kernel[1])  # ConvTranspose2d's [in, out, kh, kw]
    b = randn(f) if use_bias else None
    xl, wl = leaf(x), leaf(w)
    bl = leaf(b) if use_bias else None
    z = torch.zeros(n, f, out[0], out[1], dtype=DT, requires_grad=True)
    conv = conv_op(z, wl, None, pad, strides, dilation)
    assert list(conv.shape) == [n, c, h, w_], (conv.shape, x.shape)
    (y,) = torch.autograd.grad(conv, z, grad_outputs=xl, create_graph=True)
    if use_bias:
        y = y + bl.view(1, -1, 1, 1)
    # Cross-check with torch's own transposed convolution where its padding can say it.
    if pad[0] == pad[1] and pad[2] == pad[3]:
        full = F.conv_transpose2d(x, w, None, stride=tuple(strides), padding=(pad[0], pad[2]), dilation=tuple(dilation))
        full = F.pad(full, (0, out[1] - full.shape[3], 0, out[0] - full.shape[2]))
        if use_bias:
            full = full + b.view(1, -1, 1, 1)
        assert torch.allclose(y.detach(), full, rtol=_tol(), atol=_tol())
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    params = {
        "filters": f,
        "kernel": list(kernel),
        "strides": list(strides),
        "dilation": list(dilation),
        "padding": padding,
        "pad": pad,
        "out": list(out),
        "use_bias": use_bias,
    }
    t = {"x": x, "w": w, "y": y, "dy": dy, "grad_x": xl.grad, "grad_w": wl.grad}
    if use_bias:
        t["b"] = b
        t["grad_b"] = bl.grad
    save(name, "conv2d_transpose", params, t)


def c_conv_transpose_valid_s2(name):
    conv_transpose_case(name, 2, 3, 4, 5, 2, (3, 3), (2, 2), "valid")


def c_conv_transpose_same_s2(name):
    conv_transpose_case(name, 2, 2, 4, 4, 3, (3, 3), (2, 2), "same")


def c_conv_transpose_same_s2_k2(name):
    conv_transpose_case(name, 1, 3, 3, 4, 2, (2, 2), (2, 2), "same", use_bias=False)


def c_conv_transpose_same_s1(name):
    conv_transpose_case(name, 2, 2, 5, 5, 3, (3, 3), (1, 1), "same")


def c_conv_transpose_valid_dilation2_rect(name):
    conv_transpose_case(name, 1, 2, 3, 4, 2, (2, 3), (1, 2), "valid", dilation=(2, 2))


def c_conv_transpose_same_s3_k2(name):
    # Kernel smaller than the stride: some output cells receive nothing but the bias.
    conv_transpose_case(name, 1, 2, 3, 3, 2, (2, 2), (3, 3), "same")


def c_global_maxpool(name):
    unary_case(name, "global_maxpool2d", {}, lambda x: F.adaptive_max_pool2d(x, 1).flatten(1), randn(2, 3, 4, 5))


# Merge layers (Concatenate, Multiply, Subtract, Maximum, Average): y and the gradients of
# sum(y*dy) for every input.
def merge_case(name, op, params, fn, xs):
    leaves = [leaf(x) for x in xs]
    y = fn(*leaves)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    names = ["x", "x2", "x3"][: len(xs)]
    t = {"y": y, "dy": dy}
    for n, x, l in zip(names, xs, leaves):
        t[n] = x
        t["grad_" + n] = l.grad
    save(name, op, params, t)


def c_concat_channels(name):
    merge_case(name, "concat", {"axis": 1}, lambda a, b, c: torch.cat([a, b, c], dim=1),
               [randn(2, 3, 4, 5), randn(2, 1, 4, 5), randn(2, 2, 4, 5)])


def c_concat_features(name):
    merge_case(name, "concat", {"axis": 1}, lambda a, b, c: torch.cat([a, b, c], dim=1),
               [randn(3, 4), randn(3, 7), randn(3, 2)])


def c_multiply(name):
    merge_case(name, "multiply", {}, lambda a, b: a * b, [randn(2, 3, 4, 4), randn(2, 3, 4, 4)])


def c_subtract(name):
    merge_case(name, "subtract", {}, lambda a, b: a - b, [randn(2, 3, 4, 4), randn(2, 3, 4, 4)])


def c_maximum(name):
    merge_case(name, "maximum", {}, torch.maximum, [randn(2, 3, 4, 4), randn(2, 3, 4, 4)])


def c_average(name):
    merge_case(name, "average", {}, lambda a, b, c: (a + b + c) / 3, [randn(3, 6), randn(3, 6), randn(3, 6)])


KINK_REPORT = {}


def c_model_fashion_cnn(name):
    n = 4
    x = rand_uniform((n, 1, 28, 28), 0.0, 1.0)  # image-like input in [0,1)
    labels = torch.randint(0, 10, (n,), dtype=torch.int64)
    w = {
        "conv2d/kernel": glorot((32, 1, 3, 3), 1 * 9, 32 * 9),
        "conv2d/bias": (0.05 * randn(32)).to(torch.float32).to(DT),
        "conv2d_1/kernel": glorot((64, 32, 3, 3), 32 * 9, 64 * 9),
        "conv2d_1/bias": (0.05 * randn(64)).to(torch.float32).to(DT),
        "dense/kernel": glorot((3136, 100), 3136, 100),
        "dense/bias": (0.05 * randn(100)).to(torch.float32).to(DT),
        "dense_1/kernel": glorot((100, 10), 100, 10),
        "dense_1/bias": (0.05 * randn(10)).to(torch.float32).to(DT),
    }
    wl = {k: leaf(v) for k, v in w.items()}
    xl = leaf(x)
    same = [1, 1, 1, 1]
    pre = []
    h = conv_op(xl, wl["conv2d/kernel"], wl["conv2d/bias"], same, (1, 1), (1, 1))
    pre.append(h.detach())
    h = F.relu(h)
    h = maxpool_op(h, [0, 0, 0, 0], (2, 2), (2, 2))
    h = conv_op(h, wl["conv2d_1/kernel"], wl["conv2d_1/bias"], same, (1, 1), (1, 1))
    pre.append(h.detach())
    h = F.relu(h)
    h = maxpool_op(h, [0, 0, 0, 0], (2, 2), (2, 2))
    h = torch.flatten(h, 1)  # C,H,W order
    h = h @ wl["dense/kernel"] + wl["dense/bias"]
    pre.append(h.detach())
    h = F.relu(h)
    logits = h @ wl["dense_1/kernel"] + wl["dense_1/bias"]
    probs = F.softmax(logits, dim=-1)
    loss = F.cross_entropy(logits, labels, reduction="mean")
    loss.backward()
    KINK_REPORT[name] = min(p.abs().min().item() for p in pre)
    t = dict(w)
    t.update(
        {
            "x": x,
            "x_nhwc": x.permute(0, 2, 3, 1).contiguous(),
            "labels": labels,
            "logits": logits,
            "probs": probs,
            "loss": loss,
            "grad_x": xl.grad,
        }
    )
    for k, v in wl.items():
        t["grad/" + k] = v.grad
    params = {
        "input": "NCHW",
        "layers": [
            {"name": "conv2d", "op": "conv2d", "filters": 32, "kernel": [3, 3], "strides": [1, 1], "padding": "same", "pad": same, "activation": "relu"},
            {"name": "max_pooling2d", "op": "maxpool2d", "pool": [2, 2], "strides": [2, 2], "padding": "valid", "pad": [0, 0, 0, 0]},
            {"name": "conv2d_1", "op": "conv2d", "filters": 64, "kernel": [3, 3], "strides": [1, 1], "padding": "same", "pad": same, "activation": "relu"},
            {"name": "max_pooling2d_1", "op": "maxpool2d", "pool": [2, 2], "strides": [2, 2], "padding": "valid", "pad": [0, 0, 0, 0]},
            {"name": "flatten", "op": "flatten", "order": "CHW"},
            {"name": "dense", "op": "dense", "units": 100, "activation": "relu"},
            {"name": "dense_1", "op": "dense", "units": 10, "activation": "softmax"},
        ],
        "loss": "sparse_softmax_xent_mean_from_logits",
    }
    save(name, "model_fashion_cnn", params, t)


def c_model_residual(name):
    eps, momentum = 1e-3, 0.99
    x = randn(2, 3, 8, 8)
    labels = torch.randint(0, 3, (2,), dtype=torch.int64)
    trainable = {
        "stem/kernel": glorot((4, 3, 3, 3), 3 * 9, 4 * 9),
        "stem_bn/gamma": (1.0 + 0.2 * randn(4)).to(torch.float32).to(DT),
        "stem_bn/beta": (0.2 * randn(4)).to(torch.float32).to(DT),
        "block1/conv1/kernel": glorot((4, 4, 3, 3), 4 * 9, 4 * 9),
        "block1/conv2/kernel": glorot((4, 4, 3, 3), 4 * 9, 4 * 9),
        "head/kernel": glorot((4, 3), 4, 3),
        "head/bias": (0.1 * randn(3)).to(torch.float32).to(DT),
    }
    moving = {
        "stem_bn/moving_mean": (0.5 * randn(4)).to(torch.float32).to(DT),
        "stem_bn/moving_variance": rand_uniform((4,), 0.5, 2.0),
    }
    wl = {k: leaf(v) for k, v in trainable.items()}
    xl = leaf(x)
    same = [1, 1, 1, 1]
    pre = []
    h = conv_op(xl, wl["stem/kernel"], None, same, (1, 1), (1, 1))
    h, nmm, nmv = batchnorm_ref(
        h, wl["stem_bn/gamma"], wl["stem_bn/beta"], moving["stem_bn/moving_mean"], moving["stem_bn/moving_variance"], eps, momentum, True
    )
    pre.append(h.detach())
    h = F.relu(h)
    skip = h
    h = conv_op(h, wl["block1/conv1/kernel"], None, same, (1, 1), (1, 1))
    pre.append(h.detach())
    h = F.relu(h)
    h = conv_op(h, wl["block1/conv2/kernel"], None, same, (1, 1), (1, 1))
    h = h + skip
    pre.append(h.detach())
    h = F.relu(h)
    h = h.mean(dim=(2, 3))
    logits = h @ wl["head/kernel"] + wl["head/bias"]
    loss = F.cross_entropy(logits, labels, reduction="mean")
    loss.backward()
    KINK_REPORT[name] = min(p.abs().min().item() for p in pre)
    t = dict(trainable)
    t.update(moving)
    t.update(
        {
            "x": x,
            "labels": labels,
            "logits": logits,
            "loss": loss,
            "grad_x": xl.grad,
            "stem_bn/new_moving_mean": nmm,
            "stem_bn/new_moving_variance": nmv,
        }
    )
    for k, v in wl.items():
        t["grad/" + k] = v.grad
    params = {
        "input": "NCHW",
        "layers": [
            {"name": "stem", "op": "conv2d", "filters": 4, "kernel": [3, 3], "strides": [1, 1], "padding": "same", "pad": same, "use_bias": False},
            {"name": "stem_bn", "op": "batchnorm", "eps": eps, "momentum": momentum, "training": True, "axis": 1, "running_var_update": "unbiased"},
            {"name": "stem_relu", "op": "relu"},
            {"name": "block1/conv1", "op": "conv2d", "filters": 4, "kernel": [3, 3], "strides": [1, 1], "padding": "same", "pad": same, "use_bias": False, "activation": "relu"},
            {"name": "block1/conv2", "op": "conv2d", "filters": 4, "kernel": [3, 3], "strides": [1, 1], "padding": "same", "pad": same, "use_bias": False},
            {"name": "block1/add", "op": "add", "inputs": ["block1/conv2", "stem_relu"]},
            {"name": "block1/relu", "op": "relu"},
            {"name": "pool", "op": "global_avgpool2d"},
            {"name": "head", "op": "dense", "units": 3},
        ],
        "loss": "sparse_softmax_xent_mean_from_logits",
    }
    save(name, "model_residual", params, t)


def c_model_mobilenet(name):
    """A small network of the MobileNet-era layers: a stride-2 stem with batch norm (training
    mode) and ReLU6, a depthwise convolution with Swish, a separable convolution (depth
    multiplier 2) with GELU, a stride-2 transposed convolution, global average pooling and a
    dense head; NCHW, Keras-like names."""
    eps, momentum = 1e-3, 0.99
    x = randn(2, 3, 8, 8)
    labels = torch.randint(0, 3, (2,), dtype=torch.int64)
    trainable = {
        "stem/kernel": glorot((4, 3, 3, 3), 3 * 9, 4 * 9),
        "stem_bn/gamma": (1.0 + 0.2 * randn(4)).to(torch.float32).to(DT),
        "stem_bn/beta": (0.2 * randn(4)).to(torch.float32).to(DT),
        "dw/depthwise_kernel": glorot((4, 1, 3, 3), 4 * 9, 1 * 9),
        "sep/depthwise_kernel": glorot((8, 1, 3, 3), 4 * 9, 2 * 9),
        "sep/pointwise_kernel": glorot((6, 8, 1, 1), 8, 6),
        "sep/bias": (0.1 * randn(6)).to(torch.float32).to(DT),
        "up/kernel": glorot((6, 4, 2, 2), 4 * 4, 6 * 4),
        "up/bias": (0.1 * randn(4)).to(torch.float32).to(DT),
        "head/kernel": glorot((4, 3), 4, 3),
        "head/bias": (0.1 * randn(3)).to(torch.float32).to(DT),
    }
    moving = {
        "stem_bn/moving_mean": (0.5 * randn(4)).to(torch.float32).to(DT),
        "stem_bn/moving_variance": rand_uniform((4,), 0.5, 2.0),
    }
    wl = {k: leaf(v) for k, v in trainable.items()}
    xl = leaf(x)
    pre = []
    h = conv_op(xl, wl["stem/kernel"], None, resolve_pad("same", (8, 8), (3, 3), (2, 2)), (2, 2), (1, 1))
    h, nmm, nmv = batchnorm_ref(
        h, wl["stem_bn/gamma"], wl["stem_bn/beta"], moving["stem_bn/moving_mean"], moving["stem_bn/moving_variance"], eps, momentum, True
    )
    pre.append(h.detach())
    pre.append(h.detach() - 6)
    h = F.hardtanh(h, 0.0, 6.0)
    same1 = resolve_pad("same", (4, 4), (3, 3), (1, 1))
    h = F.silu(F.conv2d(tfpad(h, same1), wl["dw/depthwise_kernel"], None, groups=4))
    h = F.conv2d(tfpad(h, same1), wl["sep/depthwise_kernel"], None, groups=4)
    h = F.gelu(F.conv2d(h, wl["sep/pointwise_kernel"], wl["sep/bias"]))
    h = F.conv_transpose2d(h, wl["up/kernel"], wl["up/bias"], stride=2)
    h = h.mean(dim=(2, 3))
    logits = h @ wl["head/kernel"] + wl["head/bias"]
    loss = F.cross_entropy(logits, labels, reduction="mean")
    loss.backward()
    KINK_REPORT[name] = min(p.abs().min().item() for p in pre)
    t = dict(trainable)
    t.update(moving)
    t.update({"x": x, "labels": labels, "logits": logits, "loss": loss, "grad_x": xl.grad,
              "stem_bn/new_moving_mean": nmm, "stem_bn/new_moving_variance": nmv})
    for k, v in wl.items():
        t["grad/" + k] = v.grad
    params = {
        "input": "NCHW",
        "layers": [
            {"name": "stem", "op": "conv2d", "filters": 4, "kernel": [3, 3], "strides": [2, 2], "padding": "same", "use_bias": False},
            {"name": "stem_bn", "op": "batchnorm", "eps": eps, "momentum": momentum, "training": True},
            {"name": "activation", "op": "relu6"},
            {"name": "dw", "op": "depthwise_conv2d", "kernel": [3, 3], "depth_multiplier": 1, "padding": "same", "use_bias": False, "activation": "swish"},
            {"name": "sep", "op": "separable_conv2d", "filters": 6, "kernel": [3, 3], "depth_multiplier": 2, "padding": "same", "activation": "gelu"},
            {"name": "up", "op": "conv2d_transpose", "filters": 4, "kernel": [2, 2], "strides": [2, 2], "padding": "valid"},
            {"name": "pool", "op": "global_avgpool2d"},
            {"name": "head", "op": "dense", "units": 3},
        ],
        "loss": "sparse_softmax_xent_mean_from_logits",
    }
    save(name, "model_mobilenet", params, t)


CASES = [
    ("conv2d_same_s1", c_conv2d_same_s1),
    ("conv2d_valid_s2_odd", c_conv2d_valid_s2_odd),
    ("conv2d_same_s2_asym", c_conv2d_same_s2_asym),
    ("conv2d_dilation2", c_conv2d_dilation2),
    ("conv2d_batch1_kernel_eq_input", c_conv2d_batch1_kernel_eq_input),
    ("conv2d_rect_explicit", c_conv2d_rect_explicit),
    ("conv2d_1x1", c_conv2d_1x1),
    ("maxpool_2x2_s2", c_maxpool_2x2_s2),
    ("maxpool_3x3_s2_same", c_maxpool_3x3_s2_same),
    ("maxpool_2x2_s2_odd_valid", c_maxpool_2x2_s2_odd_valid),
    ("maxpool_3x3_s1_same", c_maxpool_3x3_s1_same),
    ("avgpool_2x2_s2", c_avgpool_2x2_s2),
    ("avgpool_3x3_s2_same", c_avgpool_3x3_s2_same),
    ("avgpool_3x3_s1_same", c_avgpool_3x3_s1_same),
    ("global_avgpool", c_global_avgpool),
    ("dense", c_dense),
    ("bias_add_4d", c_bias_add_4d),
    ("relu", c_relu),
    ("leaky_relu", c_leaky_relu),
    ("sigmoid", c_sigmoid),
    ("tanh", c_tanh),
    ("softmax", c_softmax),
    ("softmax_large", c_softmax_large),
    ("softmax_xent", c_softmax_xent),
    ("softmax_xent_large", c_softmax_xent_large),
    ("mse", c_mse),
    ("add", c_add),
    ("flatten", c_flatten),
    ("batchnorm_train", c_batchnorm_train),
    ("batchnorm_eval", c_batchnorm_eval),
    ("batchnorm_2d_train", c_batchnorm_2d_train),
    ("relu6", c_relu6),
    ("elu", c_elu),
    ("elu_alpha", c_elu_alpha),
    ("gelu", c_gelu),
    ("silu", c_silu),
    ("softmax_channels", c_softmax_channels),
    ("softmax_rows", c_softmax_rows),
    ("zero_pad2d", c_zero_pad2d),
    ("crop2d", c_crop2d),
    ("reshape", c_reshape),
    ("global_maxpool", c_global_maxpool),
    ("upsample_nearest", c_upsample_nearest),
    ("conv_transpose_valid_s2", c_conv_transpose_valid_s2),
    ("conv_transpose_same_s2", c_conv_transpose_same_s2),
    ("conv_transpose_same_s2_k2", c_conv_transpose_same_s2_k2),
    ("conv_transpose_same_s1", c_conv_transpose_same_s1),
    ("conv_transpose_valid_dilation2_rect", c_conv_transpose_valid_dilation2_rect),
    ("conv_transpose_same_s3_k2", c_conv_transpose_same_s3_k2),
    ("upsample_bilinear", c_upsample_bilinear),
    ("upsample_bilinear_rect", c_upsample_bilinear_rect),
    ("depthwise_same_s1", c_depthwise_same_s1),
    ("depthwise_valid_s2_mult2", c_depthwise_valid_s2_mult2),
    ("depthwise_same_s2_asym", c_depthwise_same_s2_asym),
    ("depthwise_dilation2_mult3", c_depthwise_dilation2_mult3),
    ("depthwise_rect_explicit", c_depthwise_rect_explicit),
    ("model_fashion_cnn", c_model_fashion_cnn),
    ("model_residual", c_model_residual),
    ("model_mobilenet", c_model_mobilenet),
]


CASES += [
    ("concat_channels", c_concat_channels),
    ("concat_features", c_concat_features),
    ("multiply", c_multiply),
    ("subtract", c_subtract),
    ("maximum", c_maximum),
    ("average", c_average),
]


CASES += [
    ("softmax_xent_smoothing", c_sparse_xent_smoothing),
    ("softmax_xent_smoothing_weighted", c_sparse_xent_weighted),
    ("cce_onehot", c_cce_onehot),
    ("cce_onehot_smoothing", c_cce_onehot_smoothing),
    ("cce_smoothing_weighted", c_cce_weighted),
    ("bce_logits", c_bce_logits),
    ("bce_logits_smoothing_weighted", c_bce_logits_smoothing_weighted),
    ("bce_probs", c_bce_probs),
    ("mae", c_mae),
    ("mae_images_weighted", c_mae_images_weighted),
    ("huber", c_huber),
    ("huber_delta_weighted", c_huber_delta_weighted),
    ("mse_weighted", c_mse_weighted),
]


def grouped_case(name, n, c, h, w_, f, groups, kernel, strides, padding, dilation=(1, 1), use_bias=True):
    """A grouped convolution (PyTorch's groups, Keras's Conv2D(groups=...)): w is
    [F, C/groups, KH, KW], output channels of group g see input channels of group g only."""
    x = randn(n, c, h, w_)
    w = randn(f, c // groups, kernel[0], kernel[1])
    b = randn(f) if use_bias else None
    pad = resolve_pad(padding, (h, w_), kernel, strides, dilation)
    xl, wl = leaf(x), leaf(w)
    bl = leaf(b) if use_bias else None
    y = F.conv2d(tfpad(xl, pad), wl, bl, stride=tuple(strides), dilation=tuple(dilation), groups=groups)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    params = {
        "filters": f,
        "groups": groups,
        "kernel": list(kernel),
        "strides": list(strides),
        "dilation": list(dilation),
        "padding": padding if isinstance(padding, str) else "explicit",
        "pad": pad,
        "use_bias": use_bias,
    }
    t = {"x": x, "w": w, "y": y, "dy": dy, "grad_x": xl.grad, "grad_w": wl.grad}
    if use_bias:
        t["b"] = b
        t["grad_b"] = bl.grad
    save(name, "grouped_conv2d", params, t)


def c_grouped_g2_same_s1(name):
    grouped_case(name, 2, 4, 7, 7, 6, 2, (3, 3), (1, 1), "same")


def c_grouped_g4_valid_s2(name):
    grouped_case(name, 2, 8, 8, 9, 8, 4, (3, 3), (2, 2), "valid", use_bias=False)


def c_grouped_g2_dilation2_rect_explicit(name):
    grouped_case(name, 2, 6, 9, 8, 4, 2, (2, 3), (1, 2), [1, 0, 2, 1], dilation=(2, 2))


def c_grouped_g3_1x1(name):
    grouped_case(name, 3, 6, 5, 4, 9, 3, (1, 1), (1, 1), "valid")


CASES += [
    ("grouped_g2_same_s1", c_grouped_g2_same_s1),
    ("grouped_g4_valid_s2", c_grouped_g4_valid_s2),
    ("grouped_g2_dilation2_rect_explicit", c_grouped_g2_dilation2_rect_explicit),
    ("grouped_g3_1x1", c_grouped_g3_1x1),
]


def prelu_case(name, shape, alphas):
    """PReLU: max(x, 0) + alpha*min(x, 0), alpha per channel (axis 1) or shared ([1])."""
    x = away_from_zero(randn(*shape))
    alpha = rand_uniform((alphas,), 0.05, 0.5)
    xl, al = leaf(x), leaf(alpha)
    y = F.prelu(xl, al)
    dy = randn(*y.shape)
    (y * dy).sum().backward()
    t = {"x": x, "alpha": alpha, "y": y, "dy": dy, "grad_x": xl.grad, "grad_alpha": al.grad}
    save(name, "prelu", {"shared": alphas == 1}, t)


def c_prelu_channels(name):
    prelu_case(name, (3, 4, 5, 6), 4)


def c_prelu_shared(name):
    prelu_case(name, (2, 3, 4, 4), 1)


def c_prelu_features(name):
    prelu_case(name, (10, 7), 7)


CASES += [
    ("prelu_channels", c_prelu_channels),
    ("prelu_shared", c_prelu_shared),
    ("prelu_features", c_prelu_features),
]


def resize_case(name, x, out, mode):
    """Resizing to any size: F.interpolate(size=out), nearest (floor(o*in/out)) or bilinear
    with align_corners=False (half-pixel centres)."""
    kw = {"align_corners": False} if mode == "bilinear" else {}
    unary_case(name, "resize2d", {"out": list(out), "interpolation": mode},
               lambda t: F.interpolate(t, size=tuple(out), mode=mode, **kw), x)


def c_resize_bilinear_up(name):
    resize_case(name, randn(2, 3, 5, 4), (7, 9), "bilinear")


def c_resize_bilinear_down(name):
    resize_case(name, randn(1, 2, 9, 8), (6, 3), "bilinear")


def c_resize_nearest_up(name):
    resize_case(name, randn(2, 2, 5, 4), (7, 9), "nearest")


def c_resize_nearest_down(name):
    resize_case(name, randn(1, 2, 9, 8), (6, 3), "nearest")


CASES += [
    ("resize_bilinear_up", c_resize_bilinear_up),
    ("resize_bilinear_down", c_resize_bilinear_down),
    ("resize_nearest_up", c_resize_nearest_up),
    ("resize_nearest_down", c_resize_nearest_down),
]


def main():
    if not os.path.exists(".git") or not os.path.isfile("go.mod"):
        sys.exit("run from the repository root: /usr/bin/python3 tools/parity/gen.py")
    os.makedirs(OUT_DIR, exist_ok=True)
    INDEX.clear()
    for name, fn in CASES:
        run_case(name, fn)
    index = {"generator": "tools/parity/gen.py", "torch": torch.__version__, "cases": INDEX}
    with open(os.path.join(OUT_DIR, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    # Re-read every file as a self-check of the writer.
    for entry in INDEX:
        meta, ts = read_safetensors(os.path.join(OUT_DIR, entry["file"]))
        assert meta["op"] == entry["op"] and json.loads(meta["params"]) == entry["params"]
        assert sorted(ts) == sorted(entry["tensors"])
    for k, v in KINK_REPORT.items():
        print("%s: min |pre-activation| at relu kinks = %.3g" % (k, v))
    print("wrote %d cases to %s (torch %s)" % (len(INDEX), OUT_DIR, torch.__version__))


if __name__ == "__main__":
    main()
