package zoo

import (
	"fmt"
	"strings"

	"github.com/convgraph/convgraph/checkpoint"
	"github.com/convgraph/convgraph/nn"
)

// adaptInputConv fills kernel dst, [O, C, kh, kw] (OIHW), from src, [O, I, kh, kw],
// trained on I input channels, by timm's adapt_input_conv rule: input channel c takes
// src's channel c mod I, and every value is scaled by I/C. A gray image fed as C
// identical channels then gives the same sums as the original (for I = 1: C copies of
// w/C), so the model's activations and predictions stay those of the gray model.
func adaptInputConv[T float32 | float64](dst, src []T, o, i, c, k int) {
	scale := T(float64(i) / float64(c))
	for oo := range o {
		for cc := range c {
			copy(dst[(oo*c+cc)*k:(oo*c+cc+1)*k], src[(oo*i+cc%i)*k:(oo*i+cc%i+1)*k])
			for j := (oo*c + cc) * k; j < (oo*c+cc+1)*k; j++ {
				dst[j] *= scale
			}
		}
	}
}

// adapt revisits the parameters a partial load of the shipped weights skipped because
// the options changed their shape. A convolution kernel that reads the model's input
// and differs only in its input channels (RGB for weights trained on gray images) is
// adapted by [adaptInputConv] and moves to the report's Adapted; a Dense kernel whose
// input count differs (a Dense after Flatten, for another image size) keeps its skip,
// with a reason that says why.
func adapt(m, shipped *nn.Model, rep *checkpoint.Report) {
	inputName := m.Inputs()[0].Name
	readsInput := map[string]bool{}
	kinds := map[string]string{}
	for _, l := range m.Layers() {
		for _, p := range l.Params {
			kinds[p] = l.Kind
			readsInput[p] = len(l.Inputs) == 1 && l.Inputs[0] == inputName
		}
	}
	in, was := m.InputShape(), shipped.InputShape()
	var skipped []checkpoint.Skipped
	for _, s := range rep.Skipped {
		dst, src := m.Param(s.Param), shipped.Param(s.Param)
		if src == nil {
			skipped = append(skipped, s)
			continue
		}
		ds, ss := dst.Shape(), src.Shape()
		switch {
		case kinds[s.Param] == "Conv2D" && strings.HasSuffix(s.Param, "/kernel") && readsInput[s.Param] &&
			len(ds) == 4 && len(ss) == 4 && ds[0] == ss[0] && ds[2] == ss[2] && ds[3] == ss[3] && ds[1] != ss[1]:
			o, i, c, k := ds[0], ss[1], ds[1], ds[2]*ds[3]
			switch d := dst.Value.Data().(type) {
			case []float32:
				adaptInputConv(d, src.Value.Data().([]float32), o, i, c, k)
			case []float64:
				adaptInputConv(d, src.Value.Data().([]float64), o, i, c, k)
			}
			rep.Adapted = append(rep.Adapted, checkpoint.Adapted{Param: s.Param,
				Rule: fmt.Sprintf("%d input channels from the weights' %d: each repeats input channel c mod %d, scaled by %d/%d (timm's adapt_input_conv)", c, i, i, i, c)})
		case kinds[s.Param] == "Dense" && len(ds) == 2 && len(ss) == 2 && ds[1] == ss[1] && ds[0] != ss[0] && (in[0] != was[0] || in[1] != was[1]):
			s.Reason = fmt.Sprintf("shape %v in the weights, %v in the model: its inputs depend on the image size (%dx%d here, %dx%d in the weights), so it keeps its fresh initialization",
				ss, ds, in[0], in[1], was[0], was[1])
			skipped = append(skipped, s)
		default:
			skipped = append(skipped, s)
		}
	}
	rep.Skipped = skipped
}
