#!/usr/bin/python3
"""Write ONNX models exported by PyTorch, and PyTorch's outputs, for onnx's import tests.

Run from the repository root with Debian's python3-torch and python3-onnx:

    /usr/bin/python3 tools/onnx/torch_models.py

For each model below it writes onnx/testdata/NAME.onnx (torch.onnx.export, opset 13, a
dynamic batch dimension "N") and onnx/testdata/NAME.json: the input's shape and values
and PyTorch's output for them, in float32 (computed in float64 from the float32 weights
and inputs, then rounded). The models are written the way PyTorch users write them:

- course_cnn: the Keras course's CNN (two 3x3 same convolutions with 2x2 max pools, a
  100-unit dense layer, dropout, a 10-way softmax), with torch.flatten.
- resnet20: a CIFAR ResNet-20 (3 stages x 3 basic blocks, 16/32/64 filters) on 32x32x3,
  with symmetric padding 1 at stride 2 (PyTorch's, not TensorFlow's "same"), 1x1
  projection shortcuts with batch norm, F.avg_pool2d(out, 8) over the last 8x8 map and
  out.view(out.size(0), -1), whose shape arithmetic (Shape, Gather, Unsqueeze, Concat)
  the importer folds. Batch norm is kept (TrainingMode.PRESERVE), so it stays trainable.
- resnet20_fused: the same network exported in eval mode, where PyTorch folds each batch
  norm into its convolution's weights and bias.
- mobilenet: a MobileNet-style net: 3x3 depthwise (groups = channels) and 1x1 pointwise
  convolutions with batch norm and ReLU6 (Clip 0..6), global average pooling, a linear
  classifier.
- modern: SiLU, GELU, ELU, ZeroPad2d, cropping by slicing, torch.cat, products,
  differences and maxima of branches, AdaptiveMaxPool2d, a softmax over channels and a
  view back to an image.
- mixed: LeakyReLU, Sigmoid, Tanh, average pooling with padding, dilation, a
  non-square kernel, a MatMul followed by the Add of a bias, batch norm on vectors, and
  Mul, Sub and Div by constants after a convolution (which the importer folds into it).
- resnext: a ResNeXt-style net: bottleneck blocks whose 3x3 convolutions are grouped
  (nn.Conv2d groups=8 at stride 2 and groups=4 with dilation 2, 1 < groups < channels),
  a grouped 1x1 convolution (groups=2), batch norm, 1x1 projection shortcuts, global
  average pooling and a linear classifier.
- two_heads: two inputs (an image and a vector of metadata) and two outputs (class
  probabilities and a value), with a feature map of the image branch as a third output;
  NAME.json then holds lists: inputs, input_shapes, outputs, output_shapes, in the
  file's order.
- tiny: a convolution, batch norm, ReLU, x.view(x.size(0), -1) and a linear layer in
  2 KB: the fuzzer's seed.
- prelu: a convolution and nn.PReLU() (one slope shared by every channel).
- prelu_channels: PReLUs with a slope per channel of an image (nn.PReLU(8), exported as
  a [8, 1, 1] slope) and per feature of a vector (nn.PReLU(16)).
- resize: F.interpolate to sizes that are not whole multiples (bilinear with
  align_corners=False, and nearest, enlarging and shrinking) and by a scale factor of 1.5
  on an even size.
- instance_norm: an InstanceNorm2d, which convgraph has no layer for: the error tests'
  example.

Every model's batch-norm statistics and affine parameters are drawn at random (seeded),
so that the tests see them. The output does not change between runs.
"""

import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join("onnx", "testdata")


class CourseCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 100)
        self.dropout = nn.Dropout(0.4)
        self.fc2 = nn.Linear(100, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return F.softmax(self.fc2(x), dim=1)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin, layers = 16, []
        for i, cout in enumerate([16, 32, 64]):
            blocks = []
            for j in range(3):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(BasicBlock(cin, cout, stride))
                cin = cout
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, 8)
        out = out.view(out.size(0), -1)
        return self.linear(out)


def dw_block(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU6(inplace=True),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True),
    )


class MobileNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(inplace=True))
        self.features = nn.Sequential(dw_block(16, 32, 1), dw_block(32, 64, 2), dw_block(64, 64, 1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        x = self.pool(self.features(self.stem(x)))
        return self.classifier(torch.flatten(x, 1))


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=2, dilation=2)
        self.conv2 = nn.Conv2d(8, 8, (3, 2), stride=(2, 1), padding=(1, 0))
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.mpool = nn.MaxPool2d(3, stride=1, padding=1)
        self.fc1 = nn.Linear(8 * 4 * 7, 16, bias=False)
        self.fc1_bias = nn.Parameter(torch.zeros(16))
        self.bn = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = F.leaky_relu(self.conv1(x), 0.1)
        x = torch.sigmoid((self.conv2(x) * 2.0 - 0.5) / 4.0)
        x = self.mpool(self.pool(x))
        x = x.reshape(-1, 8 * 4 * 7)
        x = torch.matmul(x, self.fc1.weight.t()) + self.fc1_bias
        x = torch.tanh(self.bn(x))
        return self.fc2(x)


class Modern(nn.Module):
    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 0, 2, 1))
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.conv2 = nn.Conv2d(8, 8, 1)
        self.conv3 = nn.Conv2d(8, 8, 1)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(16 + 8, 5)

    def forward(self, x):
        x = F.silu(self.conv1(self.pad(x)))
        x = x[:, :, 1:-1, 1:]
        a = F.gelu(self.conv2(x))
        b = F.elu(self.conv3(x), 0.5)
        y = torch.cat([a * b, torch.max(a, b) - b], 1)
        y = torch.softmax(y, 1)
        g = self.pool(y).flatten(1)
        return self.fc(torch.cat([g, self.pool(x).flatten(1)], 1))


class ResNeXtBlock(nn.Module):
    def __init__(self, cin, width, cout, groups, stride, dilation=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=dilation, dilation=dilation, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, groups=2, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class ResNeXt(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = ResNeXtBlock(16, 32, 32, groups=8, stride=2)
        self.layer2 = ResNeXtBlock(32, 32, 32, groups=4, stride=1, dilation=2)
        self.grouped = nn.Conv2d(32, 48, 3, padding=1, groups=4)
        self.linear = nn.Linear(48, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer2(self.layer1(out))
        out = F.relu(self.grouped(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.meta = nn.Linear(3, 8)
        self.cls = nn.Linear(6 + 8, 4)
        self.value = nn.Linear(6 + 8, 1)

    def forward(self, image, meta):
        f = F.relu(self.bn(self.conv(image)))
        x = torch.cat([F.adaptive_avg_pool2d(f, 1).flatten(1), torch.tanh(self.meta(meta))], 1)
        return F.softmax(self.cls(x), dim=1), self.value(x), F.max_pool2d(f, 2)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3 * 4 * 3, 4)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(x.view(x.size(0), -1))


class WithPReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.act = nn.PReLU()

    def forward(self, x):
        return torch.flatten(self.act(self.conv(x)), 1)


class PReLUChannels(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.PReLU(8, init=0.1)
        self.fc = nn.Linear(8 * 4 * 4, 16)
        self.fc_act = nn.PReLU(16)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = F.max_pool2d(self.act(self.conv(x)), 2)
        return self.head(self.fc_act(self.fc(torch.flatten(x, 1))))


class Resize(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 5, 5)

    def forward(self, x):
        x = F.interpolate(F.relu(self.conv(x)), size=(12, 14), mode="bilinear", align_corners=False)
        x = F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=False)
        x = F.interpolate(self.conv2(x), size=(9, 7), mode="nearest")
        x = F.interpolate(x, size=(6, 5), mode="bilinear", align_corners=False)
        return self.fc(torch.flatten(x, 1))


class WithInstanceNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.norm = nn.InstanceNorm2d(4, affine=True)

    def forward(self, x):
        return torch.flatten(self.norm(self.conv(x)), 1)


def randomize_prelu(model, gen):
    for m in model.modules():
        if isinstance(m, nn.PReLU):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) * 0.4 + 0.05)


def randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(n, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)
        if isinstance(m, Mixed):
            m.fc1_bias.data.copy_(torch.randn(16, generator=gen) * 0.1)


def write(name, model, shape, batch=3, training=torch.onnx.TrainingMode.PRESERVE):
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        randomize_bn(model, gen)
    model.eval()
    x = torch.rand((batch,) + shape, generator=gen)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, training=training,
                      do_constant_folding=True)
    with torch.no_grad():
        y = model.double()(x.double()).float()
    model.float()
    ref = {
        "input_shape": list(x.shape),
        "input": [float(v) for v in x.flatten().tolist()],
        "output_shape": list(y.shape),
        "output": [float(v) for v in y.flatten().tolist()],
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(ref, f, sort_keys=True)
        f.write("\n")
    print("wrote", path)


def write_multi(name, model, shapes, batch=3):
    """write for a model of several inputs and outputs (named input_0.., output_0..)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        randomize_bn(model, gen)
    model.eval()
    xs = tuple(torch.rand((batch,) + s, generator=gen) for s in shapes)
    with torch.no_grad():
        n_out = len(model(*xs))
    ins = ["input_%d" % i for i in range(len(xs))]
    outs = ["output_%d" % i for i in range(n_out)]
    axes = {k: {0: "N"} for k in ins + outs}
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, xs, path, opset_version=13, input_names=ins, output_names=outs,
                      dynamic_axes=axes, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    with torch.no_grad():
        ys = [y.float() for y in model.double()(*[x.double() for x in xs])]
    model.float()
    ref = {
        "input_shapes": [list(x.shape) for x in xs],
        "inputs": [[float(v) for v in x.flatten().tolist()] for x in xs],
        "output_shapes": [list(y.shape) for y in ys],
        "outputs": [[float(v) for v in y.flatten().tolist()] for y in ys],
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(ref, f, sort_keys=True)
        f.write("\n")
    print("wrote", path)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1)
    write("course_cnn", CourseCNN(), (1, 28, 28))
    torch.manual_seed(2)
    write("resnet20", ResNet20(), (3, 32, 32))
    torch.manual_seed(2)
    write("resnet20_fused", ResNet20(), (3, 32, 32), training=torch.onnx.TrainingMode.EVAL)
    torch.manual_seed(3)
    write("mobilenet", MobileNet(), (3, 32, 32))
    torch.manual_seed(4)
    write("mixed", Mixed(), (3, 15, 14))
    torch.manual_seed(5)
    write("tiny", Tiny(), (2, 7, 5))
    torch.manual_seed(7)
    write("modern", Modern(), (3, 9, 8))
    torch.manual_seed(6)
    write("prelu", WithPReLU(), (1, 6, 6))
    torch.manual_seed(8)
    write("resnext", ResNeXt(), (3, 16, 16))
    torch.manual_seed(9)
    write_multi("two_heads", TwoHeads(), [(1, 8, 8), (3,)])
    torch.manual_seed(10)
    m = PReLUChannels()
    with torch.no_grad():
        randomize_prelu(m, torch.Generator().manual_seed(10))
    write("prelu_channels", m, (3, 8, 8))
    torch.manual_seed(11)
    write("instance_norm", WithInstanceNorm(), (1, 6, 6))
    torch.manual_seed(12)
    write("resize", Resize(), (3, 8, 6))


if __name__ == "__main__":
    main()
