package nn

import (
	"fmt"
	"sort"
	"strings"
)

// PaddingMode is how a convolution or pooling layer pads its input.
type PaddingMode string

// The padding modes of Keras.
const (
	// Valid uses no padding: the output shrinks by the kernel size minus one.
	Valid PaddingMode = "valid"
	// Same pads so that the output has ceil(input/stride) cells, the extra cell of an odd
	// total going to the bottom and right, as in TensorFlow.
	Same PaddingMode = "same"
	// Explicit is set by [ExplicitPadding].
	Explicit PaddingMode = "explicit"
)

// ActivationFn names an activation function.
type ActivationFn string

// The activation functions.
const (
	Linear    ActivationFn = "linear"
	ReLU      ActivationFn = "relu"
	LeakyReLU ActivationFn = "leaky_relu" // negative slope set by [Alpha], default 0.3
	Sigmoid   ActivationFn = "sigmoid"
	Tanh      ActivationFn = "tanh"
	Softmax   ActivationFn = "softmax" // over the classes; as a layer, over any axis ([Axis])
	ReLU6     ActivationFn = "relu6"   // min(max(x, 0), 6), MobileNet's
	ELU       ActivationFn = "elu"     // alpha*(exp(x)-1) below 0, alpha set by [Alpha], default 1
	GELU      ActivationFn = "gelu"    // x*Φ(x), the exact form (Keras's approximate=False)
	Swish     ActivationFn = "swish"   // x*sigmoid(x)
	SiLU                   = Swish     // PyTorch's name for Swish
)

// Initializer names a parameter initializer.
type Initializer string

// The initializers. All draw from the seed given to [Model.Initialize].
const (
	GlorotUniform Initializer = "glorot_uniform" // U(-l, l), l = sqrt(6/(fan_in+fan_out)); Keras's default
	HeNormal      Initializer = "he_normal"      // truncated normal, std sqrt(2/fan_in)
	Zeros         Initializer = "zeros"
	Ones          Initializer = "ones"
)

// Config is a layer's full configuration, the form a model spec is saved in. Zero fields
// mean the layer's default.
type Config struct {
	Name        string       `json:"name,omitempty"`
	Shape       []int        `json:"shape,omitempty"`       // Input
	Filters     int          `json:"filters,omitempty"`     // Conv2D
	Units       int          `json:"units,omitempty"`       // Dense
	KernelSize  []int        `json:"kernel_size,omitempty"` // Conv2D
	PoolSize    []int        `json:"pool_size,omitempty"`   // pooling
	Strides     []int        `json:"strides,omitempty"`
	Padding     PaddingMode  `json:"padding,omitempty"`
	Pads        []int        `json:"pads,omitempty"` // explicit: top, bottom, left, right
	Dilation    []int        `json:"dilation_rate,omitempty"`
	Activation  ActivationFn `json:"activation,omitempty"`
	Alpha       float64      `json:"alpha,omitempty"`
	UseBias     *bool        `json:"use_bias,omitempty"`
	Rate        float64      `json:"rate,omitempty"` // Dropout
	Momentum    float64      `json:"momentum,omitempty"`
	Epsilon     float64      `json:"epsilon,omitempty"`
	KernelInit  Initializer  `json:"kernel_initializer,omitempty"`
	BiasInit    Initializer  `json:"bias_initializer,omitempty"`
	Frozen      bool         `json:"frozen,omitempty"`
	Axis        int          `json:"axis,omitempty"`         // softmax layer: Keras's axis, default -1
	Cropping    []int        `json:"cropping,omitempty"`     // Cropping2D: top, bottom, left, right
	TargetShape []int        `json:"target_shape,omitempty"` // Reshape
	// DepthMultiplier is a depthwise convolution's filters per input channel (default 1).
	DepthMultiplier int               `json:"depth_multiplier,omitempty"`
	Size            []int             `json:"size,omitempty"`          // UpSampling2D: height and width factors
	Interpolation   InterpolationMode `json:"interpolation,omitempty"` // UpSampling2D
	// Groups is a Conv2D's number of channel groups (default 1; see [Groups]).
	Groups      int  `json:"groups,omitempty"`
	SharedAlpha bool `json:"shared_alpha,omitempty"` // PReLU: one slope for all channels
	Height      int  `json:"height,omitempty"`       // Resizing
	Width       int  `json:"width,omitempty"`        // Resizing
	optionsUsed []string
}

// An Option configures a layer. Every layer constructor takes the same Option type; an
// option that does not apply to a layer (Padding on Dense) is an error naming both when
// the model is built.
type Option struct {
	name string
	set  func(*Config) error
}

func opt(name string, set func(*Config) error) Option { return Option{name: name, set: set} }

// Name sets the layer's name; it must be unique in its model and contain no '/'
// ([Builder.Block] adds path prefixes). Layers without one get Keras's names: conv2d,
// conv2d_1, dense, ...
func Name(name string) Option {
	return opt("Name", func(c *Config) error {
		if name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("name %q must be non-empty and contain no '/'", name)
		}
		c.Name = name
		return nil
	})
}

// Padding sets [Same] or [Valid] padding (the default is Valid, as in Keras).
func Padding(p PaddingMode) Option {
	return opt("Padding", func(c *Config) error {
		if p != Same && p != Valid {
			return fmt.Errorf("padding %q is not %q or %q (use ExplicitPadding for explicit sizes)", p, Same, Valid)
		}
		c.Padding, c.Pads = p, nil
		return nil
	})
}

// ExplicitPadding pads top, bottom, left and right by the given numbers of cells.
func ExplicitPadding(top, bottom, left, right int) Option {
	return opt("Padding", func(c *Config) error {
		for _, v := range []int{top, bottom, left, right} {
			if v < 0 {
				return fmt.Errorf("padding %d,%d,%d,%d must not be negative", top, bottom, left, right)
			}
		}
		c.Padding, c.Pads = Explicit, []int{top, bottom, left, right}
		return nil
	})
}

// pair expands one or two sizes to (h, w).
func pair(what string, v []int) ([]int, error) {
	switch len(v) {
	case 1:
		v = []int{v[0], v[0]}
	case 2:
	default:
		return nil, fmt.Errorf("%s takes one or two sizes, got %d", what, len(v))
	}
	if v[0] <= 0 || v[1] <= 0 {
		return nil, fmt.Errorf("%s %dx%d must be positive", what, v[0], v[1])
	}
	return []int{v[0], v[1]}, nil
}

// Strides sets the step between windows: one value for both axes, or height and width.
// Convolutions default to 1; pooling defaults to the pool size.
func Strides(s ...int) Option {
	return opt("Strides", func(c *Config) (err error) {
		c.Strides, err = pair("strides", s)
		return err
	})
}

// Dilation sets a convolution's dilation rate: one value or height and width (default 1).
func Dilation(d ...int) Option {
	return opt("Dilation", func(c *Config) (err error) {
		c.Dilation, err = pair("dilation", d)
		return err
	})
}

// Activation applies an activation function to the layer's output (default [Linear]).
func Activation(a ActivationFn) Option {
	return opt("Activation", func(c *Config) error {
		if err := checkActivation(a); err != nil {
			return err
		}
		c.Activation = a
		return nil
	})
}

func checkActivation(a ActivationFn) error {
	switch a {
	case Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, ReLU6, ELU, GELU, Swish:
		return nil
	}
	return fmt.Errorf("unknown activation %q", a)
}

// Alpha sets [LeakyReLU]'s negative slope (default 0.3, Keras's) or [ELU]'s scale of the
// negative part (default 1).
func Alpha(a float64) Option {
	return opt("Alpha", func(c *Config) error {
		if a < 0 {
			return fmt.Errorf("alpha %v must not be negative", a)
		}
		c.Alpha = a
		return nil
	})
}

// UseBias turns a layer's bias on or off (default on).
func UseBias(on bool) Option {
	return opt("UseBias", func(c *Config) error { c.UseBias = &on; return nil })
}

// KernelInitializer sets how kernels are drawn (default [GlorotUniform]).
func KernelInitializer(i Initializer) Option {
	return opt("KernelInitializer", func(c *Config) error { c.KernelInit = i; return checkInit(i) })
}

// BiasInitializer sets how biases are drawn (default [Zeros]).
func BiasInitializer(i Initializer) Option {
	return opt("BiasInitializer", func(c *Config) error { c.BiasInit = i; return checkInit(i) })
}

func checkInit(i Initializer) error {
	switch i {
	case GlorotUniform, HeNormal, Zeros, Ones:
		return nil
	}
	return fmt.Errorf("unknown initializer %q", i)
}

// Momentum sets BatchNorm's moving-average momentum, in [0, 1) (default 0.99).
func Momentum(m float64) Option {
	return opt("Momentum", func(c *Config) error {
		if m < 0 || m >= 1 {
			return fmt.Errorf("momentum %v must be in [0, 1)", m)
		}
		c.Momentum = m
		return nil
	})
}

// Epsilon sets BatchNorm's variance epsilon (default 1e-3).
func Epsilon(e float64) Option {
	return opt("Epsilon", func(c *Config) error {
		if e <= 0 {
			return fmt.Errorf("epsilon %v must be positive", e)
		}
		c.Epsilon = e
		return nil
	})
}

// Trainable(false) freezes the layer from the start; see [Model.Freeze].
func Trainable(on bool) Option {
	return opt("Trainable", func(c *Config) error { c.Frozen = !on; return nil })
}

// applyOptions runs opts on c and checks each applies to kind.
func applyOptions(kind string, allowed []string, c *Config, opts []Option) error {
	ok := map[string]bool{"Name": true, "Trainable": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, o := range opts {
		if o.set == nil {
			return fmt.Errorf("zero Option")
		}
		if !ok[o.name] {
			names := make([]string, 0, len(ok))
			for k := range ok {
				names = append(names, k)
			}
			sort.Strings(names)
			return fmt.Errorf("option %s does not apply to %s (it takes %s)", o.name, kind, strings.Join(names, ", "))
		}
		if err := o.set(c); err != nil {
			return err
		}
		c.optionsUsed = append(c.optionsUsed, o.name)
	}
	return nil
}
