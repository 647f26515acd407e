package preprocess

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
)

// Background is the colour of an image's background, as its border shows it.
type Background string

// The backgrounds: [Dark] (Fashion-MNIST and MNIST: a light object on black), [Light] (a
// product photo: a dark object on white) and [Unknown] (mixed, or not recorded).
const (
	Unknown Background = ""
	Dark    Background = "dark"
	Light   Background = "light"
)

// Opposite is the other background ([Unknown] for Unknown).
func (b Background) Opposite() Background {
	switch b {
	case Dark:
		return Light
	case Light:
		return Dark
	}
	return Unknown
}

func (b Background) String() string {
	if b == Unknown {
		return "unknown"
	}
	return string(b)
}

// Resize is how an image of another size becomes the model's input size.
type Resize string

// The resize rules.
const (
	// Fit keeps the aspect ratio: the image is scaled (bilinear, antialiased when it
	// shrinks) until it fits the input size, centred, and the rest is padded with the
	// image's own background colour, the mean colour of its border pixels. The default.
	Fit Resize = "fit"
	// Stretch scales the image to the input size whatever its aspect ratio (what
	// [data.ImageFolder] does to its images).
	Stretch Resize = "stretch"
)

// Config is the preprocessing a model expects: how a raw image becomes its input. It is
// stored with the model (its JSON spec, so checkpoints too) and written into exported
// ONNX files as their "preprocessing" property, in this JSON form.
//
// A pixel byte p (0-255) of channel ch becomes
//
//	v = Scale·p + Offset, then (v − Mean[ch]) / Std[ch] if Mean and Std are set
//
// in an image of Height x Width pixels of Channels channels (1: gray by the ITU-R 601
// luma weights; 3: RGB; 4: RGBA, colours premultiplied so that transparent is black), in
// (height, width, channels) order. The zero value of a field means its default:
// Scale 1/255 (Keras's Rescaling(1/255), the scaling convgraph's data pipeline applies),
// the size and channels of the model's input, [Fit], and an [Unknown] background.
type Config struct {
	// Scale multiplies raw pixel values (default 1/255).
	Scale float64 `json:"scale"`
	// Offset is added after scaling (default 0).
	Offset float64 `json:"offset"`
	// Mean and Std, per channel, normalise the scaled values (both or neither).
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
	// Layout is the input's dimension order: "NHWC" for images, "NC" for vectors.
	Layout string `json:"layout,omitempty"`
	// Height, Width and Channels are the input image's size (0 for vector inputs).
	Height   int `json:"height,omitempty"`
	Width    int `json:"width,omitempty"`
	Channels int `json:"channels,omitempty"`
	// Resize is how images of another size are brought to Height x Width.
	Resize Resize `json:"resize,omitempty"`
	// Trim crops, before an image of another size is resized, the margins whose colour is
	// within 5% of its background's (its mean border colour), so the object fills the
	// input as it did in the training images: Fashion-MNIST's own recipe (trim, fit the
	// longest edge, centre). Images of the input size are never trimmed.
	Trim bool `json:"trim,omitempty"`
	// Background is the background of the images the model was trained on: [Dark] for
	// Fashion-MNIST and MNIST. Images whose border shows the opposite one are inverted
	// (see [Invert]); [Unknown] turns the check off.
	Background Background `json:"background,omitempty"`
}

// IsImage says whether the config describes an image input (as opposed to vectors).
func (c Config) IsImage() bool { return c.Layout == "NHWC" }

// ForInput returns c completed for a model input of the given shape, (height, width,
// channels) for images or (features) for vectors: defaults filled in and every field
// checked. A size or channel count c sets must equal the shape's.
func (c Config) ForInput(shape []int) (Config, error) {
	if c.Scale == 0 {
		c.Scale = 1.0 / 255
	}
	switch len(shape) {
	case 3:
		for _, f := range []struct {
			name string
			v    *int
			want int
		}{{"height", &c.Height, shape[0]}, {"width", &c.Width, shape[1]}, {"channels", &c.Channels, shape[2]}} {
			if *f.v == 0 {
				*f.v = f.want
			}
			if *f.v != f.want {
				return c, errors.Errorf("preprocessing: %s %d, but the model's input is %dx%dx%d", f.name, *f.v, shape[0], shape[1], shape[2])
			}
		}
		if c.Layout == "" {
			c.Layout = "NHWC"
		}
		if c.Resize == "" {
			c.Resize = Fit
		}
	default:
		if c.Height != 0 || c.Width != 0 || c.Channels != 0 {
			return c, errors.Errorf("preprocessing: an image size %dx%dx%d for a model that takes %d-d input", c.Height, c.Width, c.Channels, len(shape))
		}
		if c.Layout == "" && len(shape) == 1 {
			c.Layout = "NC"
		}
	}
	return c, c.Validate()
}

// Validate checks a completed config (see [Config.ForInput]): a finite non-zero scale, a
// known layout, resize rule and background, and a positive standard deviation for each
// channel.
func (c Config) Validate() error {
	if c.Scale == 0 || !finite(c.Scale) || !finite(c.Offset) {
		return errors.Errorf("preprocessing: scale %v and offset %v must be finite, the scale non-zero", c.Scale, c.Offset)
	}
	switch c.Layout {
	case "NHWC":
		if c.Height < 1 || c.Width < 1 || c.Channels != 1 && c.Channels != 3 && c.Channels != 4 {
			return errors.Errorf("preprocessing: image size %dx%dx%d: want a positive size and 1, 3 or 4 channels", c.Height, c.Width, c.Channels)
		}
	case "NC", "":
	default:
		return errors.Errorf("preprocessing: layout %q: want NHWC or NC", c.Layout)
	}
	switch c.Resize {
	case Fit, Stretch, "":
	default:
		return errors.Errorf("preprocessing: resize %q: want %q or %q", c.Resize, Fit, Stretch)
	}
	switch c.Background {
	case Dark, Light, Unknown:
	default:
		return errors.Errorf("preprocessing: background %q: want %q, %q or none", c.Background, Dark, Light)
	}
	if (c.Mean == nil) != (c.Std == nil) {
		return errors.New("preprocessing: mean and std go together: set both or neither")
	}
	if c.Mean != nil {
		if len(c.Mean) != c.Channels || len(c.Std) != c.Channels {
			return errors.Errorf("preprocessing: %d means and %d stds for %d channels", len(c.Mean), len(c.Std), c.Channels)
		}
		for i := range c.Mean {
			if !finite(c.Mean[i]) || !(c.Std[i] > 0) || !finite(c.Std[i]) {
				return errors.Errorf("preprocessing: channel %d: mean %v and std %v must be finite, the std positive", i, c.Mean[i], c.Std[i])
			}
		}
	}
	return nil
}

// String describes the config in one line, as `convgraph summary` prints it:
// "28x28 gray, fit with trim, pixels / 255, dark background".
func (c Config) String() string {
	scale := fmt.Sprintf("pixels * %g + %g", c.Scale, c.Offset)
	if c.Scale == 0 || c.Scale == 1.0/255 && c.Offset == 0 {
		scale = "pixels / 255"
	}
	if c.Mean != nil {
		scale += fmt.Sprintf(", then (v - mean %v) / std %v per channel", c.Mean, c.Std)
	}
	if !c.IsImage() {
		return "vector input, " + strings.Replace(scale, "pixels", "values", 1)
	}
	channels := map[int]string{1: "gray", 3: "RGB", 4: "RGBA"}[c.Channels]
	resize := string(c.Resize)
	if resize == "" {
		resize = string(Fit)
	}
	if c.Trim {
		resize += " with trim"
	}
	return fmt.Sprintf("%dx%d %s, %s, %s, %s background", c.Height, c.Width, channels, resize, scale, c.Background)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Normalize writes the model inputs of pixel bytes src (Channels per pixel, or any
// values for a vector model) to dst: Scale·p + Offset, then the per-channel mean and std.
// It computes in float32, as convgraph's data pipeline does, so an image read here gives
// the training batches' bits. It panics if len(dst) < len(src), or Std is shorter than Mean (a config that fails
// [Config.Validate]).
func (c Config) Normalize(dst []float32, src []uint8) {
	scale, offset := float32(c.Scale), float32(c.Offset)
	if scale == 0 {
		scale = 1.0 / 255
	}
	dst = dst[:len(src)]
	if c.Mean == nil {
		for i, p := range src {
			dst[i] = scale*float32(p) + offset
		}
		return
	}
	ch := len(c.Mean)
	if ch == 0 {
		c.Mean = nil
		c.Normalize(dst, src)
		return
	}
	for i, p := range src {
		k := i % ch
		dst[i] = (scale*float32(p) + offset - float32(c.Mean[k])) / float32(c.Std[k])
	}
}
