#!/usr/bin/env python3
"""PyTorch reference for `convgraph bench`: the same architectures, the same loops.

A training step is zero_grad, forward, cross-entropy, backward and an Adam step on a
batch made beforehand (as convgraph bench times it); inference runs the model forward
under torch.no_grad() at --infer-batch. Prints the fields convgraph bench prints, or one
JSON object with --json.

Run it with Debian's python3-torch: /usr/bin/python3 bench/torch_bench.py --model fashion-cnn
"""
import argparse
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_pad(size, k, s):
    """TensorFlow's "same" padding for one axis: (before, after)."""
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class SamePad(nn.Module):
    """Pads like Keras's padding="same" (the odd cell goes after), then applies m."""

    def __init__(self, m, k, s, size, value=0.0):
        super().__init__()
        self.m, self.value = m, value
        b, a = same_pad(size, k, s)
        self.pad = (b, a, b, a)

    def forward(self, x):
        if any(self.pad):
            x = F.pad(x, self.pad, value=self.value)
        return self.m(x)


def conv_same(cin, cout, k, s, size, bias=True):
    b, a = same_pad(size, k, s)
    if b == a:  # symmetric: let the convolution pad (the fast path)
        return nn.Conv2d(cin, cout, k, s, padding=b, bias=bias)
    return SamePad(nn.Conv2d(cin, cout, k, s, bias=bias), k, s, size)


def fashion_cnn():
    # zoo "fashion-cnn": the course CNN.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 100), nn.ReLU(), nn.Dropout(0.4),
        nn.Linear(100, 10))


def alexnet_small():
    # zoo "alexnet-small": five same-padded convolutions, 3x3/2 same max pools (inputs are
    # ReLU outputs, so zero padding equals -inf padding), two dropout dense layers.
    def pool(size):
        return SamePad(nn.MaxPool2d(3, 2), 3, 2, size)
    return nn.Sequential(
        conv_same(1, 32, 5, 1, 28), nn.ReLU(), pool(28),
        conv_same(32, 64, 3, 1, 14), nn.ReLU(), pool(14),
        conv_same(64, 96, 3, 1, 7), nn.ReLU(),
        conv_same(96, 96, 3, 1, 7), nn.ReLU(),
        conv_same(96, 64, 3, 1, 7), nn.ReLU(), pool(7),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 256), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)  # Keras's defaults


class Block(nn.Module):
    def __init__(self, cin, cout, stride, size):
        super().__init__()
        self.conv1 = conv_same(cin, cout, 3, stride, size, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = conv_same(cout, cout, 3, 1, (size + stride - 1) // stride, bias=False)
        self.bn2 = bn(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


def resnet_small():
    # zoo "resnet-small": a CIFAR-style ResNet-20 on 28x28x1.
    layers = [nn.Conv2d(1, 16, 3, padding=1, bias=False), bn(16), nn.ReLU()]
    cin, size = 16, 28
    for s, f in enumerate([16, 32, 64]):
        for i in range(3):
            stride = 2 if s > 0 and i == 0 else 1
            layers.append(Block(cin, f, stride, size))
            cin, size = f, (size + stride - 1) // stride
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def conv_bn_relu6(cin, cout, k, s, size, groups=1):
    b, a = same_pad(size, k, s)
    conv = nn.Conv2d(cin, cout, k, s, padding=b if b == a else 0, groups=groups, bias=False)
    if b != a:
        conv = SamePad(conv, k, s, size)
    return [conv, bn(cout), nn.ReLU6()]


def mobilenet_small():
    # zoo "mobilenet-small": a 3x3 stem, six depthwise-separable blocks (3x3 depthwise with
    # groups=C, BN, ReLU6, 1x1 pointwise, BN, ReLU6), global average pooling, on 28x28x1.
    layers = conv_bn_relu6(1, 16, 3, 1, 28)
    cin, size = 16, 28
    for f, stride in [(32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2)]:
        layers += conv_bn_relu6(cin, cin, 3, stride, size, groups=cin)
        size = (size + stride - 1) // stride
        layers += conv_bn_relu6(cin, f, 1, 1, size)
        cin = f
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


MODELS = {"fashion-cnn": fashion_cnn, "alexnet-small": alexnet_small, "resnet-small": resnet_small,
          "mobilenet-small": mobilenet_small}


def timed(step, warmup, seconds):
    for _ in range(warmup):
        step()
    steps, start = 0, time.perf_counter()
    while steps < 1 or time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="fashion-cnn", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="0: every core")
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = MODELS[a.model]()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))
    model.train()

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    tsteps, tsecs = timed(train_step, a.warmup, a.seconds)

    xi = torch.rand(a.infer_batch, 1, 28, 28)
    model.eval()

    def infer_step():
        with torch.no_grad():
            torch.softmax(model(xi), dim=1)

    isteps, isecs = timed(infer_step, a.warmup, a.seconds)
    res = {
        "model": a.model,
        "path": "pytorch " + torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": a.batch,
        "infer_batch": a.infer_batch,
        "train_img_per_s": tsteps * a.batch / tsecs,
        "infer_img_per_s": isteps * a.infer_batch / isecs,
        "train_steps": tsteps,
        "infer_steps": isteps,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if a.json:
        json.dump(res, sys.stdout)
        print()
        return
    print(f"model:            {res['model']}")
    print(f"compute path:     {res['path']}")
    print(f"threads:          {res['threads']}")
    print(f"train_img_per_s:  {res['train_img_per_s']:.1f}  (batch {a.batch}, {tsteps} steps)")
    print(f"infer_img_per_s:  {res['infer_img_per_s']:.1f}  (batch {a.infer_batch}, {isteps} steps)")
    print(f"max RSS:          {res['max_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
