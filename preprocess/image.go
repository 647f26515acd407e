package preprocess

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG for image.Decode
	_ "image/png"  // registers PNG for image.Decode

	"github.com/pkg/errors"
	"golang.org/x/image/draw"

	"github.com/convgraph/convgraph/internal/limits"
)

// Invert says whether images are inverted (each byte p becomes 255-p, alpha kept).
type Invert string

// The inversion modes.
const (
	// InvertAuto inverts an image whose border shows the opposite of the model's
	// training [Background] (the default); an unknown background on either side keeps
	// the image as it is.
	InvertAuto Invert = "auto"
	// InvertYes always inverts.
	InvertYes Invert = "yes"
	// InvertNo never inverts (a mismatch is still reported).
	InvertNo Invert = "no"
)

// ParseInvert reads "auto", "yes" or "no".
func ParseInvert(s string) (Invert, error) {
	switch Invert(s) {
	case InvertAuto, InvertYes, InvertNo:
		return Invert(s), nil
	}
	return "", errors.Errorf("invert %q: want auto, yes or no", s)
}

// An Option changes how one image is read.
type Option func(*options)

type options struct {
	invert    Invert
	maxPixels int64
}

// WithInvert sets the inversion mode (default [InvertAuto]).
func WithInvert(mode Invert) Option { return func(o *options) { o.invert = mode } }

// MaxPixels lowers the number of pixels an image may have (default
// limits.MaxImagePixels, 8192x8192; a larger value is capped at it).
func MaxPixels(n int64) Option { return func(o *options) { o.maxPixels = n } }

func makeOptions(opts []Option) (options, error) {
	o := options{invert: InvertAuto, maxPixels: limits.MaxImagePixels}
	for _, f := range opts {
		f(&o)
	}
	if _, err := ParseInvert(string(o.invert)); err != nil {
		return o, errors.Wrap(err, "preprocess")
	}
	if o.maxPixels <= 0 || o.maxPixels > limits.MaxImagePixels {
		o.maxPixels = limits.MaxImagePixels
	}
	return o, nil
}

// Report says what reading one image did.
type Report struct {
	// Name is the image's name (its file, or the name the caller gave).
	Name string
	// Width and Height are the image's own size, before resizing.
	Width, Height int
	// Background is the background its border shows.
	Background Background
	// Mismatch says that Background is the opposite of the model's training background.
	Mismatch bool
	// Inverted says that the image was inverted.
	Inverted bool
}

// Notice is a one-line message about a background mismatch (whether or not it was
// inverted), or "" when there is nothing to say.
func (r Report) Notice(trained Background) string {
	switch {
	case r.Mismatch && r.Inverted:
		return fmt.Sprintf("%s: %s background, but the model was trained on %s backgrounds: inverted the image", r.Name, r.Background, trained)
	case r.Mismatch:
		return fmt.Sprintf("%s: %s background, but the model was trained on %s backgrounds: not inverted, so the prediction may be wrong", r.Name, r.Background, trained)
	case r.Inverted:
		return fmt.Sprintf("%s: inverted the image, as asked", r.Name)
	}
	return ""
}

// File reads a PNG or JPEG file and returns the model input it makes (see
// [Config.Image]). Limits, checked before a pixel is decoded: the file is a regular file
// (symbolic links followed; directories, devices and named pipes refused) of at most
// limits.MaxImageFileBytes (256 MiB), and its header claims at most [MaxPixels] pixels
// and a resize scratch within limits.MaxResizeScratch. Errors name the file.
func (c Config) File(path string, opts ...Option) ([]float32, Report, error) {
	if !c.IsImage() {
		return nil, Report{Name: path}, c.notImage(path)
	}
	b, err := limits.ReadFile(path, limits.MaxImageFileBytes)
	if err != nil {
		return nil, Report{Name: path}, errors.Wrap(err, "preprocess")
	}
	return c.Decode(b, path, opts...)
}

// Decode reads an encoded PNG or JPEG image held in memory (name appears in errors:
// an upload's file name, say) and returns the model input it makes (see [Config.Image]),
// checking its header against the limits of [Config.File] before decoding a pixel.
func (c Config) Decode(b []byte, name string, opts ...Option) ([]float32, Report, error) {
	rep := Report{Name: name}
	if !c.IsImage() {
		return nil, rep, c.notImage(name)
	}
	o, err := makeOptions(opts)
	if err != nil {
		return nil, rep, err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, rep, errors.Errorf("preprocess: %s: cannot decode image: %v", name, err)
	}
	if format != "png" && format != "jpeg" {
		return nil, rep, errors.Errorf("preprocess: %s: a %s image: only PNG and JPEG are read", name, format)
	}
	if err := limits.CheckImage(name, cfg.Width, cfg.Height, o.maxPixels, c.Width, c.Height); err != nil {
		return nil, rep, errors.Wrap(err, "preprocess")
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, rep, errors.Errorf("preprocess: %s: cannot decode image: %v", name, err)
	}
	return c.image(img, name, o)
}

// Image returns the model input img makes, Height x Width x Channels float32 values in
// (height, width, channels) order, and a report of what was done:
//
//  1. the background is read from the image's border: [Dark] when at least 60% of the
//     border pixels have a luma below 96 (of 255), [Light] when at least 60% have one
//     above 160, else [Unknown];
//  2. an image of another size is trimmed if [Config.Trim] is set, and resized by
//     [Config.Resize] ([Fit] pads with the mean border colour);
//  3. converted to Channels channels;
//  4. inverted by the [Invert] mode ([InvertAuto]: when the border's background is the
//     opposite of [Config.Background]);
//  5. scaled and normalised ([Config.Normalize]).
//
// Its size is checked as [Config.File] checks a header's. The result does not depend
// on anything but img and c, so any number of goroutines may call it.
func (c Config) Image(img image.Image, name string, opts ...Option) ([]float32, Report, error) {
	rep := Report{Name: name}
	if !c.IsImage() {
		return nil, rep, c.notImage(name)
	}
	if img == nil {
		return nil, rep, errors.Errorf("preprocess: %s: no image", name)
	}
	o, err := makeOptions(opts)
	if err != nil {
		return nil, rep, err
	}
	return c.image(img, name, o)
}

func (c Config) notImage(name string) error {
	return errors.Errorf("preprocess: %s: the model takes %s input, not images", name, map[bool]string{true: "vector", false: "non-image"}[c.Layout == "NC"])
}

func (c Config) image(img image.Image, name string, o options) ([]float32, Report, error) {
	if err := c.Validate(); err != nil {
		return nil, Report{Name: name}, err
	}
	b := img.Bounds()
	rep := Report{Name: name, Width: b.Dx(), Height: b.Dy()}
	if err := limits.CheckImage(name, b.Dx(), b.Dy(), o.maxPixels, c.Width, c.Height); err != nil {
		return nil, rep, errors.Wrap(err, "preprocess")
	}
	bg, pad := border(img)
	rep.Background = bg
	rep.Mismatch = c.Background != Unknown && bg != Unknown && bg != c.Background
	switch o.invert {
	case InvertYes:
		rep.Inverted = true
	case InvertAuto:
		rep.Inverted = rep.Mismatch
	}
	px := c.pixels(img, pad)
	if rep.Inverted {
		for i := range px {
			if c.Channels != 4 || i%4 != 3 {
				px[i] = 255 - px[i]
			}
		}
	}
	x := make([]float32, len(px))
	c.Normalize(x, px)
	return x, rep, nil
}

// Pixels returns img resized by c's rule and converted to c's channels, as bytes in
// (height, width, channels) order: the image the model sees before inversion and
// scaling. It panics if c is not a completed image config (see [Config.ForInput]).
func (c Config) Pixels(img image.Image) []uint8 {
	_, pad := border(img)
	return c.pixels(img, pad)
}

func (c Config) pixels(img image.Image, pad color.Color) []uint8 {
	w, h := c.Width, c.Height
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	b := img.Bounds()
	if c.Trim && (b.Dx() != w || b.Dy() != h) {
		if t := trim(img, pad); !t.Empty() && t != b {
			img, b = &view{img, t}, t
		}
	}
	switch {
	case b.Dx() == w && b.Dy() == h:
		draw.Copy(rgba, image.Point{}, img, b, draw.Src, nil)
	case c.Resize == Stretch:
		draw.BiLinear.Scale(rgba, rgba.Bounds(), img, b, draw.Src, nil)
	default:
		draw.Draw(rgba, rgba.Bounds(), image.NewUniform(pad), image.Point{}, draw.Src)
		// The largest size of the image's aspect ratio that fits, rounded, at least 1.
		sw, sh := w, h
		if b.Dx()*h > b.Dy()*w { // wider than the input
			sh = max(1, (b.Dy()*w+b.Dx()/2)/b.Dx())
		} else {
			sw = max(1, (b.Dx()*h+b.Dy()/2)/b.Dy())
		}
		x0, y0 := (w-sw)/2, (h-sh)/2
		draw.BiLinear.Scale(rgba, image.Rect(x0, y0, x0+sw, y0+sh), img, b, draw.Src, nil)
	}
	out := make([]uint8, w*h*c.Channels)
	pix := rgba.Pix
	for i := range w * h {
		r, g, bl, a := pix[4*i], pix[4*i+1], pix[4*i+2], pix[4*i+3]
		switch c.Channels {
		case 1:
			out[i] = luma8(uint32(r), uint32(g), uint32(bl))
		case 3:
			out[3*i], out[3*i+1], out[3*i+2] = r, g, bl
		case 4:
			out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = r, g, bl, a
		}
	}
	return out
}

// view is part of an image.
type view struct {
	image.Image
	r image.Rectangle
}

func (v *view) Bounds() image.Rectangle { return v.r }

// trim returns the smallest rectangle holding every pixel whose colour differs from
// the background bg by more than 5% of the full intensity in some channel (an empty
// one for a uniform image).
func trim(img image.Image, bg color.Color) image.Rectangle {
	br, bgg, bb, _ := bg.RGBA()
	const tol = 0xffff * 5 / 100
	far := func(a, b uint32) bool { return a > b+tol || b > a+tol }
	b := img.Bounds()
	out := image.Rectangle{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if far(r, br) || far(g, bgg) || far(bl, bb) {
				out = out.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return out
}

// luma8 is ITU-R 601 luma of 8-bit RGB (PIL's convert("L")), rounded.
func luma8(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
}

// border reads the background from the image's outermost pixels: the share of dark and
// light ones (see [Config.Image]) and their mean colour, which Fit pads with.
func border(img image.Image) (Background, color.Color) {
	b := img.Bounds()
	var n, dark, light int
	var sr, sg, sb, sa uint64
	add := func(x, y int) {
		r, g, bl, a := img.At(x, y).RGBA()
		sr, sg, sb, sa = sr+uint64(r), sg+uint64(g), sb+uint64(bl), sa+uint64(a)
		switch l := luma8(r>>8, g>>8, bl>>8); {
		case l < 96:
			dark++
		case l > 160:
			light++
		}
		n++
	}
	for x := b.Min.X; x < b.Max.X; x++ {
		add(x, b.Min.Y)
		if b.Dy() > 1 {
			add(x, b.Max.Y-1)
		}
	}
	for y := b.Min.Y + 1; y < b.Max.Y-1; y++ {
		add(b.Min.X, y)
		if b.Dx() > 1 {
			add(b.Max.X-1, y)
		}
	}
	if n == 0 {
		return Unknown, color.Black
	}
	pad := color.RGBA64{uint16(sr / uint64(n)), uint16(sg / uint64(n)), uint16(sb / uint64(n)), uint16(sa / uint64(n))}
	switch {
	case dark*5 >= n*3:
		return Dark, pad
	case light*5 >= n*3:
		return Light, pad
	}
	return Unknown, pad
}

// BackgroundOf reads the background of n images held as bytes (h x w x c each, in
// (height, width, channels) order, as a data set holds them) from their border pixels,
// the rule of [Config.Image] applied to all their borders together: what a model
// trained on them will expect.
func BackgroundOf(pixels []uint8, n, h, w, c int) Background {
	if n <= 0 || h <= 0 || w <= 0 || c <= 0 || len(pixels) < n*h*w*c {
		return Unknown
	}
	var total, dark, light int
	for i := range n {
		im := pixels[i*h*w*c : (i+1)*h*w*c]
		for y := range h {
			for x := range w {
				if y != 0 && y != h-1 && x != 0 && x != w-1 {
					continue
				}
				p := im[(y*w+x)*c:]
				l := p[0]
				if c >= 3 {
					l = luma8(uint32(p[0]), uint32(p[1]), uint32(p[2]))
				}
				switch {
				case l < 96:
					dark++
				case l > 160:
					light++
				}
				total++
			}
		}
	}
	switch {
	case dark*5 >= total*3:
		return Dark
	case light*5 >= total*3:
		return Light
	}
	return Unknown
}
