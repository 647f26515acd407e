package zoo

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// AlexNet's shape scaled to 28x28 or 32x32 images: five convolutions with ReLU (the first
// with a larger window), overlapping 3x3 max pools at stride 2, and two dropout-regularised
// dense layers before the classifier.
func alexNetSmall(cfg Config) (*nn.Model, error) {
	conv := func(name string, filters, k int) *nn.Layer {
		return nn.Conv2D(cfg.scale(filters), k, nn.Padding(nn.Same), nn.Activation(nn.ReLU), nn.Name(name))
	}
	pool := func(name string) *nn.Layer {
		return nn.MaxPool2D(3, nn.Strides(2), nn.Padding(nn.Same), nn.Name(name))
	}
	return stack("alexnet-small", cfg, []*nn.Layer{
		conv("conv1", 32, 5), pool("pool1"),
		conv("conv2", 64, 3), pool("pool2"),
		conv("conv3", 96, 3),
		conv("conv4", 96, 3),
		conv("conv5", 64, 3), pool("pool3"),
		nn.Flatten(nn.Name("flatten")),
		nn.Dense(cfg.scale(256), nn.Activation(nn.ReLU), nn.Name("fc1")),
		nn.Dropout(0.5, nn.Name("drop1")),
		nn.Dense(cfg.scale(256), nn.Activation(nn.ReLU), nn.Name("fc2")),
		nn.Dropout(0.5, nn.Name("drop2")),
	}, nn.Dense(cfg.Classes, nn.Activation(nn.Softmax), nn.Name("head")))
}

// A CIFAR-style ResNet-20 (He et al. 2016, section 4.2): a 3x3 stem, three stages of three
// basic blocks (3x3 conv, BatchNorm, ReLU, 3x3 conv, BatchNorm, add the shortcut, ReLU) at
// 16, 32 and 64 filters, the first block of stages 2 and 3 halving the image with stride 2
// and a 1x1 projection shortcut, then global average pooling and the classifier.
func resNetSmall(cfg Config) (*nn.Model, error) {
	b := nn.NewBuilder("resnet-small")
	x := b.Input(cfg.InputShape...)
	stem := b.Block("stem")
	x = stem.Apply(nn.Conv2D(cfg.scale(16), 3, nn.Padding(nn.Same), nn.UseBias(false), nn.Name("conv")), x)
	x = stem.Apply(nn.BatchNorm(nn.Name("bn")), x)
	x = stem.Apply(nn.Activate(nn.ReLU, nn.Name("relu")), x)
	for s, filters := range []int{16, 32, 64} {
		for i := 0; i < 3; i++ {
			stride := 1
			if s > 0 && i == 0 {
				stride = 2
			}
			x = basicBlock(b.Block(fmt.Sprintf("stage%d/block%d", s+1, i+1)), x, cfg.scale(filters), stride)
		}
	}
	x = b.Apply(nn.GlobalAvgPool2D(nn.Name("pool")), x)
	if cfg.IncludeHead {
		x = b.Apply(nn.Dense(cfg.Classes, nn.Activation(nn.Softmax), nn.Name("head")), x)
	}
	return b.Model(x)
}

func basicBlock(b *nn.Builder, x nn.Tensor, filters, stride int) nn.Tensor {
	y := b.Apply(nn.Conv2D(filters, 3, nn.Strides(stride), nn.Padding(nn.Same), nn.UseBias(false), nn.Name("conv1")), x)
	y = b.Apply(nn.BatchNorm(nn.Name("bn1")), y)
	y = b.Apply(nn.Activate(nn.ReLU, nn.Name("relu1")), y)
	y = b.Apply(nn.Conv2D(filters, 3, nn.Padding(nn.Same), nn.UseBias(false), nn.Name("conv2")), y)
	y = b.Apply(nn.BatchNorm(nn.Name("bn2")), y)
	short := x
	if in := x.Shape(); stride != 1 || (len(in) == 3 && in[2] != filters) {
		short = b.Apply(nn.Conv2D(filters, 1, nn.Strides(stride), nn.UseBias(false), nn.Name("shortcut")), x)
		short = b.Apply(nn.BatchNorm(nn.Name("shortcut_bn")), short)
	}
	y = b.Apply(nn.Add(nn.Name("add")), y, short)
	return b.Apply(nn.Activate(nn.ReLU, nn.Name("relu2")), y)
}

func init() {
	Register(Info{Name: "alexnet-small", Head: []string{"head"}, LastStage: []string{"conv5", "fc1", "fc2"},
		Description: "AlexNet's shape for 28x28/32x32: five convolutions, overlapping max pools, two dropout dense layers"},
		alexNetSmall)
	Register(Info{Name: "resnet-small", Head: []string{"head"}, LastStage: []string{"stage3/"},
		Description: "a CIFAR-style ResNet-20: 3x3 stem, three stages of basic blocks (16, 32, 64 filters), global average pooling"},
		resNetSmall)
}
