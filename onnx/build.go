package onnx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/nn"
	pb "github.com/convgraph/convgraph/onnx/internal/onnxpb"
)

// layerName derives a readable, unique layer name from a node's name. PyTorch names
// nodes by module path and op ("/layer1/layer1.0/conv1/Conv"): the op segment goes for
// layers with parameters (whose module is the layer), stays lowercased for the others
// (functional calls such as F.relu inside a block), and each module's name loses its
// parent's prefix, giving "layer1/0/conv1" and "layer1/0/relu_1". convgraph's own
// files name nodes by layer and come back unchanged.
func (im *importer) layerName(n *pb.NodeProto) string {
	op := n.GetOpType()
	var segs []string
	for _, s := range strings.Split(n.GetName(), "/") {
		if s = strings.TrimSpace(s); s != "" {
			segs = append(segs, s)
		}
	}
	dropped := ""
	if k := len(segs) - 1; k >= 0 && isOpSegment(segs[k], op) {
		dropped, segs = segs[k], segs[:k]
	}
	orig := append([]string(nil), segs...)
	for i := 1; i < len(segs); i++ {
		if rest, ok := strings.CutPrefix(orig[i], orig[i-1]+"."); ok && rest != "" {
			segs[i] = rest
		}
	}
	switch op {
	case "Conv", "Gemm", "MatMul", "BatchNormalization", "PRelu":
		if len(segs) == 0 && dropped != "" {
			segs = []string{strings.ToLower(dropped)}
		}
	default:
		if dropped != "" {
			segs = append(segs, strings.ToLower(dropped))
		}
	}
	name := strings.Join(segs, "/")
	if name == "" {
		name = strings.ToLower(op)
	}
	base := name
	for im.names[name] > 0 {
		name = fmt.Sprintf("%s_%d", base, im.names[base])
		im.names[base]++
	}
	im.names[name]++
	return name
}

// isOpSegment reports whether s is op or op_N, as PyTorch names a module's N+1th op.
func isOpSegment(s, op string) bool {
	if s == op {
		return true
	}
	rest, ok := strings.CutPrefix(s, op+"_")
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

// short rounds a float read from a float32 attribute to the shortest decimal that
// reads back as the same float32: 0.001 exported as float32 comes back as 0.001, not
// 0.0010000000474974513, so export then import keeps a layer's exact settings.
func short(v float64) float64 {
	f, err := strconv.ParseFloat(strconv.FormatFloat(float64(float32(v)), 'g', -1, 32), 64)
	if err != nil {
		return v
	}
	return f
}

// nnLayer makes the convgraph layer.
func (l *layer) nnLayer(local string) *nn.Layer {
	opts := []nn.Option{nn.Name(local)}
	act := func() {
		if l.act != "" && l.act != nn.Linear {
			opts = append(opts, nn.Activation(l.act))
			if l.act == nn.LeakyReLU || l.act == nn.ELU {
				opts = append(opts, nn.Alpha(short(l.alpha)))
			}
		}
	}
	padding := func() {
		if l.pads != [4]int{} {
			opts = append(opts, nn.ExplicitPadding(l.pads[0], l.pads[1], l.pads[2], l.pads[3]))
		}
	}
	switch l.kind {
	case "Conv2D":
		opts = append(opts, nn.KernelSize(l.kernel[0], l.kernel[1]), nn.Strides(l.stride[0], l.stride[1]),
			nn.Dilation(l.dilation[0], l.dilation[1]), nn.UseBias(l.bias))
		if l.groups > 1 {
			opts = append(opts, nn.Groups(l.groups))
		}
		padding()
		act()
		return nn.Conv2D(l.filters, l.kernel[0], opts...)
	case "DepthwiseConv2D", "SeparableConv2D":
		opts = append(opts, nn.KernelSize(l.kernel[0], l.kernel[1]), nn.Strides(l.stride[0], l.stride[1]),
			nn.Dilation(l.dilation[0], l.dilation[1]), nn.UseBias(l.bias), nn.DepthMultiplier(l.multiplier))
		padding()
		act()
		if l.kind == "SeparableConv2D" {
			return nn.SeparableConv2D(l.filters, l.kernel[0], opts...)
		}
		return nn.DepthwiseConv2D(l.kernel[0], opts...)
	case "Conv2DTranspose":
		opts = append(opts, nn.KernelSize(l.kernel[0], l.kernel[1]), nn.Strides(l.stride[0], l.stride[1]),
			nn.Dilation(l.dilation[0], l.dilation[1]), nn.UseBias(l.bias))
		if l.same {
			opts = append(opts, nn.Padding(nn.Same))
		} else {
			padding()
		}
		act()
		return nn.Conv2DTranspose(l.filters, l.kernel[0], opts...)
	case "Resizing":
		if !l.bilinear {
			opts = append(opts, nn.Interpolation(nn.Nearest))
		}
		return nn.Resizing(l.size[0], l.size[1], opts...)
	case "UpSampling2D":
		opts = append(opts, nn.Size(l.size[0], l.size[1]))
		if l.bilinear {
			opts = append(opts, nn.Interpolation(nn.Bilinear))
		}
		return nn.UpSampling2D(l.size[0], opts...)
	case "PReLU":
		return nn.PReLU(append(opts, nn.SharedAlpha(l.shared))...)
	case "Dense":
		opts = append(opts, nn.UseBias(l.bias))
		act()
		return nn.Dense(l.units, opts...)
	case "MaxPooling2D", "AveragePooling2D":
		opts = append(opts, nn.PoolSize(l.pool[0], l.pool[1]), nn.Strides(l.stride[0], l.stride[1]))
		padding()
		if l.kind == "MaxPooling2D" {
			return nn.MaxPool2D(l.pool[0], opts...)
		}
		return nn.AvgPool2D(l.pool[0], opts...)
	case "GlobalAveragePooling2D":
		return nn.GlobalAvgPool2D(opts...)
	case "BatchNormalization":
		return nn.BatchNorm(append(opts, nn.Epsilon(short(l.eps)), nn.Momentum(short(l.momentum)))...)
	case "Flatten":
		return nn.Flatten(opts...)
	case "Dropout":
		return nn.Dropout(l.rate, opts...)
	case "Activation":
		if l.act == nn.LeakyReLU || l.act == nn.ELU {
			opts = append(opts, nn.Alpha(short(l.alpha)))
		}
		if l.act == nn.Softmax && l.axis != 0 {
			opts = append(opts, nn.Axis(l.axis))
		}
		return nn.Activate(l.act, opts...)
	case "Add":
		return nn.Add(opts...)
	case "Multiply":
		return nn.Multiply(opts...)
	case "Average":
		return nn.Average(opts...)
	case "Maximum":
		return nn.Maximum(opts...)
	case "Subtract":
		return nn.Subtract(opts...)
	case "Concatenate":
		return nn.Concatenate(opts...)
	case "GlobalMaxPooling2D":
		return nn.GlobalMaxPool2D(opts...)
	case "ZeroPadding2D":
		return nn.ZeroPadding2D(0, append(opts, nn.ExplicitPadding(l.pads[0], l.pads[1], l.pads[2], l.pads[3]))...)
	case "Cropping2D":
		return nn.Cropping2D(0, append(opts, nn.Crop(l.crop[0], l.crop[1], l.crop[2], l.crop[3]))...)
	case "Reshape":
		return nn.Reshape(l.target, opts...)
	}
	panic("onnx: no convgraph layer for " + l.kind) // every kind above is made by op
}

// build makes the nn model and copies the parameters into it.
func (im *importer) build(name string, outs []*value) (*nn.Model, error) {
	b := nn.NewBuilder(name)
	tensors := map[*layer]nn.Tensor{}
	for _, l := range im.inputs {
		tensors[l] = b.Input(l.out.shape...)
	}
	get := func(v *value) nn.Tensor { return tensors[v.src] }
	for _, l := range im.layers {
		if l.dead {
			continue
		}
		prefix, local := "", l.name
		if i := strings.LastIndex(l.name, "/"); i >= 0 {
			prefix, local = l.name[:i], l.name[i+1:]
		}
		var ins []nn.Tensor
		for _, v := range l.inputs {
			ins = append(ins, get(v))
		}
		tensors[l] = b.Block(prefix).Apply(l.nnLayer(local), ins...)
		if err := b.Err(); err != nil {
			return nil, errors.Wrapf(err, "onnx: node %q", l.node)
		}
	}
	var ts []nn.Tensor
	for _, out := range outs {
		ts = append(ts, get(out))
	}
	m, err := b.Model(ts...)
	if err != nil {
		return nil, errors.Wrap(err, "onnx")
	}
	for _, l := range im.layers {
		for local, vals := range l.params {
			p := m.Param(l.name + "/" + local)
			if p == nil {
				continue // a layer the output does not depend on
			}
			d, ok := p.Value.Data().([]float32)
			if !ok || len(d) != len(vals) {
				return nil, errors.Errorf("onnx: parameter %q: %d values for shape %v", p.Name, len(vals), p.Shape())
			}
			for i, v := range vals {
				d[i] = float32(v)
			}
		}
	}
	return m, nil
}
