package zoo

import (
	"fmt"

	"github.com/convgraph/convgraph/nn"
)

// mobileNetBlocks are mobilenet-small's depthwise-separable blocks: output filters and
// the depthwise convolution's stride. On 28x28 images the feature maps go 28, 14, 7, 4.
var mobileNetBlocks = []struct{ filters, stride int }{
	{32, 1}, {64, 2}, {64, 1}, {128, 2}, {128, 1}, {256, 2},
}

// A MobileNet (v1, Howard et al. 2017) scaled to 28x28 or 32x32 images: a 3x3 stem, then
// depthwise-separable blocks (a 3x3 depthwise convolution, BatchNorm, ReLU6, a 1x1
// convolution to the block's filters, BatchNorm, ReLU6), the stride-2 blocks halving the
// image, then global average pooling and the classifier. The stem keeps stride 1, since
// the images are already small.
func mobileNetSmall(cfg Config) (*nn.Model, error) {
	b := nn.NewBuilder("mobilenet-small")
	x := b.Input(cfg.InputShape...)
	stem := b.Block("stem")
	x = stem.Apply(nn.Conv2D(cfg.scale(16), 3, nn.Padding(nn.Same), nn.UseBias(false), nn.Name("conv")), x)
	x = stem.Apply(nn.BatchNorm(nn.Name("bn")), x)
	x = stem.Apply(nn.Activate(nn.ReLU6, nn.Name("relu")), x)
	for i, blk := range mobileNetBlocks {
		x = separableBlock(b.Block(fmt.Sprintf("block%d", i+1)), x, cfg.scale(blk.filters), blk.stride)
	}
	x = b.Apply(nn.GlobalAvgPool2D(nn.Name("pool")), x)
	if cfg.IncludeHead {
		x = b.Apply(nn.Dense(cfg.Classes, nn.Activation(nn.Softmax), nn.Name("head")), x)
	}
	return b.Model(x)
}

func separableBlock(b *nn.Builder, x nn.Tensor, filters, stride int) nn.Tensor {
	x = b.Apply(nn.DepthwiseConv2D(3, nn.Strides(stride), nn.Padding(nn.Same), nn.UseBias(false), nn.Name("dw")), x)
	x = b.Apply(nn.BatchNorm(nn.Name("dw_bn")), x)
	x = b.Apply(nn.Activate(nn.ReLU6, nn.Name("dw_relu")), x)
	x = b.Apply(nn.Conv2D(filters, 1, nn.UseBias(false), nn.Name("pw")), x)
	x = b.Apply(nn.BatchNorm(nn.Name("pw_bn")), x)
	return b.Apply(nn.Activate(nn.ReLU6, nn.Name("pw_relu")), x)
}

func init() {
	Register(Info{Name: "mobilenet-small", Head: []string{"head"}, LastStage: []string{"block5/", "block6/"},
		Description: "a MobileNet for 28x28/32x32: 3x3 stem, six depthwise-separable blocks (32-256 filters, ReLU6), global average pooling"},
		mobileNetSmall)
}
