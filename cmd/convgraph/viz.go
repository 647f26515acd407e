package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decode JPEG inputs
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/internal/limits"
	"github.com/convgraph/convgraph/nn"
)

// gridLine is the colour of the lines between tiles.
var gridLine = color.RGBA{70, 130, 180, 255}

func newViz() *cobra.Command {
	c := &cobra.Command{
		Use:   "viz",
		Short: "Draw what a network learned: a layer's filters, or the feature maps an image produces",
		Args:  noArgs,
	}
	c.AddCommand(newVizFilters(), newVizFeatures())
	return c
}

// vizFlags are the flags both viz commands take.
type vizFlags struct {
	mf    modelFlags
	layer string
	out   string
	scale int
}

func (v *vizFlags) add(c *cobra.Command) {
	v.mf.add(c, true)
	c.Flags().StringVar(&v.layer, "layer", "", "layer name, as summary prints it (\"conv2d_1\", \"stage1/block1/conv1\")")
	c.Flags().StringVarP(&v.out, "output", "o", "", "output PNG file")
	c.Flags().IntVar(&v.scale, "scale", 0, "pixels per value (default: chosen so the picture is about 1200 pixels across)")
}

// check validates the flags that need no model and loads the model and the layer.
func (v *vizFlags) check(cmd string) (*nn.Model, nn.LayerInfo, error) {
	var none nn.LayerInfo
	if v.out == "" {
		return nil, none, usagef("%s needs -o FILE.png", cmd)
	}
	if ext := strings.ToLower(filepath.Ext(v.out)); ext != ".png" {
		return nil, none, usagef("%s: unknown output format %q of %q (want .png)", cmd, ext, v.out)
	}
	if v.layer == "" {
		return nil, none, usagef("%s needs --layer NAME", cmd)
	}
	if v.scale < 0 || v.scale > 64 {
		return nil, none, usagef("--scale %d must be between 1 and 64 (0: automatic)", v.scale)
	}
	m, err := v.mf.load(cmd)
	if err != nil {
		return nil, none, err
	}
	var names []string
	for _, l := range m.Layers() {
		if l.Name == v.layer {
			return m, l, nil
		}
		names = append(names, l.Name)
	}
	return nil, none, usagef("model %q has no layer %q (layers: %s)", m.Name(), v.layer, strings.Join(names, ", "))
}

func newVizFilters() *cobra.Command {
	var v vizFlags
	c := &cobra.Command{
		Use:   "filters --model NAME|--checkpoint FILE --layer L -o FILE.png",
		Short: "Draw a Conv2D layer's kernels as a grid: a column per filter, a row per input channel",
		Long: `Draw a Conv2D layer's kernels as a grid of grey tiles, one per filter and input
channel: column j is filter j, row i its weights on input channel i (a layer with one input
channel wraps its filters into a square grid). Mid-grey is zero, white the largest positive
weight of the layer and black the most negative, so tiles compare across the grid.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			m, l, err := v.check("viz filters")
			if err != nil {
				return err
			}
			if l.Kind != "Conv2D" {
				var convs []string
				for _, o := range m.Layers() {
					if o.Kind == "Conv2D" {
						convs = append(convs, o.Name)
					}
				}
				return usagef("layer %q is a %s, not a Conv2D (Conv2D layers: %s)", l.Name, l.Kind, strings.Join(convs, ", "))
			}
			p := m.Param(l.Name + "/kernel")
			if p == nil {
				return errors.Errorf("layer %q has no kernel", l.Name)
			}
			s := p.Shape() // OIHW
			img := filterGrid(floats(p.Value), s[0], s[1], s[2], s[3], v.scale)
			return writePNG(c, v.out, img)
		},
	}
	v.add(c)
	return c
}

func newVizFeatures() *cobra.Command {
	var (
		v     vizFlags
		input string
	)
	c := &cobra.Command{
		Use:   "features --model NAME|--checkpoint FILE --layer L --image IMG -o FILE.png",
		Short: "Draw the feature maps (activations) one image produces at a layer",
		Long: `Run one image through the model up to a layer and draw the layer's output: one grey
tile per channel (feature map), each scaled from its own minimum (black) to its maximum
(white). A layer with a flat output (Dense) draws its units as one tile, a cell per unit.
The image is a PNG or JPEG of any size, read as predict reads it (the model's
preprocessing: resized with its aspect ratio kept, inverted when its background is the
opposite of the training images').`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if input == "" {
				return usagef("viz features needs --image FILE (a PNG or JPEG)")
			}
			m, l, err := v.check("viz features")
			if err != nil {
				return err
			}
			x, err := readInput(input, m, c.ErrOrStderr())
			if err != nil {
				return err
			}
			maps, err := activations(m, l.Name, x)
			if err != nil {
				return err
			}
			var img *image.RGBA
			if s := l.OutputShape; len(s) == 3 {
				img = featureGrid(maps, s[2], s[0], s[1], v.scale)
			} else {
				side := int(math.Ceil(math.Sqrt(float64(len(maps)))))
				padded := make([]float64, side*side)
				copy(padded, maps)
				img = featureGrid(padded, 1, side, side, v.scale)
			}
			return writePNG(c, v.out, img)
		},
	}
	v.add(c)
	c.Flags().StringVar(&input, "image", "", "PNG or JPEG image (any size: read as predict reads it)")
	return c
}

// readInput reads an image as [1, h, w, c] model input through the model's stored
// preprocessing, as predict reads it (resized, converted, inverted when its background
// is the opposite of the training images', scaled), and says on w what it inverted.
func readInput(path string, m *nn.Model, w io.Writer) (*tensor.Dense, error) {
	in := m.InputShape()
	if len(in) != 3 {
		return nil, errors.Errorf("the model takes vectors %v, not images", in)
	}
	pre := m.Preprocessing()
	vals, rep, err := pre.File(path)
	if err != nil {
		var fe *limits.FileError
		if errors.As(err, &fe) {
			return nil, errors.Errorf("image %q %s", path, fe.Reason)
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, errors.Errorf("image %q: %v", path, pe.Err)
		}
		return nil, err
	}
	if note := rep.Notice(pre.Background); note != "" {
		fmt.Fprintf(w, "viz: %s\n", note)
	}
	return tensor.New(tensor.WithShape(1, in[0], in[1], in[2]), tensor.WithBacking(vals)), nil
}

// activations runs x through a copy of m that ends at layer and returns the layer's
// output for the one image, channel-major (C, H, W) for images.
func activations(m *nn.Model, layer string, x *tensor.Dense) ([]float64, error) {
	spec := m.Spec()
	spec.Output = layer
	sub, err := nn.FromSpec(spec)
	if err != nil {
		return nil, err
	}
	if err := sub.SetDType(m.DType()); err != nil {
		return nil, err
	}
	for _, p := range sub.Params() {
		src := m.Param(p.Name)
		if src == nil {
			return nil, errors.Errorf("layer %q: parameter %q is missing", layer, p.Name)
		}
		if err := tensor.Copy(p.Value, src.Value); err != nil {
			return nil, errors.Wrapf(err, "copying %q", p.Name)
		}
	}
	gr, err := sub.Compile(1, nn.Eval)
	if err != nil {
		return nil, err
	}
	if err := gr.Run(x, nil); err != nil {
		return nil, err
	}
	return floats(gr.Output()), nil
}

// floats reads a float32 or float64 tensor as float64s.
func floats(d *tensor.Dense) []float64 {
	switch v := d.Data().(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), v...)
	}
	return nil
}

// autoScale picks pixels per value so that the larger side of a grid of content pixels
// is about 1200 pixels, between 1 and 16.
func autoScale(scale, w, h int) int {
	if scale > 0 {
		return scale
	}
	return max(1, min(16, 1200/max(w, h, 1)))
}

// squareGrid is the number of columns and rows of a near-square grid of n tiles.
func squareGrid(n int) (cols, rows int) {
	cols = int(math.Ceil(math.Sqrt(float64(n))))
	return cols, (n + cols - 1) / cols
}

// filterGrid draws OIHW kernels: a column per filter, a row per input channel, or a
// square grid of filters when there is one input channel. Zero is mid-grey.
func filterGrid(w []float64, o, in, kh, kw, scale int) *image.RGBA {
	maxAbs := 0.0
	for _, v := range w {
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	if maxAbs == 0 {
		maxAbs = 1
	}
	cols, rows := o, in
	if in == 1 {
		cols, rows = squareGrid(o)
	}
	scale = autoScale(scale, cols*kw, rows*kh)
	g := newGrid(cols, rows, kh*scale, kw*scale)
	for f := 0; f < o; f++ {
		for ch := 0; ch < in; ch++ {
			col, row := f, ch
			if in == 1 {
				col, row = f%cols, f/cols
			}
			base := (f*in + ch) * kh * kw
			g.tile(col, row, kh, kw, scale, func(y, x int) uint8 {
				return uint8(math.Round(127.5 + 127.5*w[base+y*kw+x]/maxAbs))
			})
		}
	}
	return g.img
}

// featureGrid draws c maps of h x w values (channel-major) in a square grid, each
// scaled from its minimum (black) to its maximum (white).
func featureGrid(maps []float64, c, h, w, scale int) *image.RGBA {
	cols, rows := squareGrid(c)
	scale = autoScale(scale, cols*w, rows*h)
	g := newGrid(cols, rows, h*scale, w*scale)
	for ch := 0; ch < c; ch++ {
		m := maps[ch*h*w : (ch+1)*h*w]
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range m {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		span := hi - lo
		g.tile(ch%cols, ch/cols, h, w, scale, func(y, x int) uint8 {
			if span == 0 {
				return 0
			}
			return uint8(math.Round(255 * (m[y*w+x] - lo) / span))
		})
	}
	return g.img
}

// grid is an image of cols x rows tiles of th x tw pixels with 2-pixel lines between
// them and around them.
type grid struct {
	img    *image.RGBA
	th, tw int
}

const gap = 2

func newGrid(cols, rows, th, tw int) *grid {
	img := image.NewRGBA(image.Rect(0, 0, cols*(tw+gap)+gap, rows*(th+gap)+gap))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = gridLine.R, gridLine.G, gridLine.B, 255
	}
	return &grid{img: img, th: th, tw: tw}
}

// tile paints the tile at (col, row) from an h x w function of grey levels, each value
// a scale x scale square.
func (g *grid) tile(col, row, h, w, scale int, grey func(y, x int) uint8) {
	x0, y0 := gap+col*(g.tw+gap), gap+row*(g.th+gap)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := grey(y, x)
			c := color.RGBA{v, v, v, 255}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					g.img.SetRGBA(x0+x*scale+dx, y0+y*scale+dy, c)
				}
			}
		}
	}
}

func writePNG(c *cobra.Command, path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return writeOutput(c, path, buf.Bytes())
}
