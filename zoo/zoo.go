package zoo

import (
	"sort"
	"strings"
	"sync"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/nn"
)

// Config is what a model builder receives: the options a caller gave, defaults filled in.
type Config struct {
	// InputShape is one example's shape, (height, width, channels); default (28, 28, 1).
	InputShape nn.Shape
	// Classes is the number of output classes; default 10.
	Classes int
	// IncludeHead keeps the classifier on top (default true); without it the model ends
	// at its features, for use as a backbone.
	IncludeHead bool
	// Width multiplies every convolution's and hidden layer's size (default 1).
	Width float64
}

// scale applies the width multiplier to a layer size (at least 1).
func (c Config) scale(n int) int {
	return max(1, int(float64(n)*c.Width+0.5))
}

// An Option changes a Config.
type Option func(*Config)

// InputShape sets the input shape (height, width, channels).
func InputShape(h, w, c int) Option { return func(cfg *Config) { cfg.InputShape = nn.Shape{h, w, c} } }

// Classes sets the number of output classes.
func Classes(n int) Option { return func(cfg *Config) { cfg.Classes = n } }

// IncludeHead keeps (true, the default) or drops the classifier on top.
func IncludeHead(on bool) Option { return func(cfg *Config) { cfg.IncludeHead = on } }

// Width multiplies the size of every convolution and hidden layer.
func Width(w float64) Option { return func(cfg *Config) { cfg.Width = w } }

// Builder makes a model from a Config.
type Builder func(cfg Config) (*nn.Model, error)

// Info describes a registered model.
type Info struct {
	Name        string
	Description string
	// Head lists the classifier's layers: what a head swap replaces and what
	// "--freeze backbone" leaves trainable.
	Head []string
	// LastStage is the layer-name prefix (or name) of the last stage of the backbone, the part
	// the second phase of a two-phase fine-tuning unfreezes.
	LastStage []string
}

type entry struct {
	info  Info
	build Builder
}

var (
	mu       sync.RWMutex
	registry = map[string]entry{}
)

// Register adds a model under info.Name. It panics if the name is taken or empty, which is
// a programming error in the registering package.
func Register(info Info, b Builder) {
	mu.Lock()
	defer mu.Unlock()
	if info.Name == "" || b == nil {
		panic("zoo: Register needs a name and a builder")
	}
	if _, dup := registry[info.Name]; dup {
		panic("zoo: Register called twice for " + info.Name)
	}
	registry[info.Name] = entry{info, b}
}

// List describes every registered model, sorted by name.
func List() []Info {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Info, 0, len(registry))
	for _, e := range registry {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns a registered model's description.
func Lookup(name string) (Info, bool) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := registry[name]
	return e.info, ok
}

// Names lists the registered model names, sorted.
func Names() []string {
	var out []string
	for _, i := range List() {
		out = append(out, i.Name)
	}
	return out
}

// New builds the model registered as name.
func New(name string, opts ...Option) (*nn.Model, error) {
	mu.RLock()
	e, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, errors.Errorf("zoo: unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	cfg := Config{InputShape: nn.Shape{28, 28, 1}, Classes: 10, IncludeHead: true, Width: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Classes < 2 {
		return nil, errors.Errorf("zoo: model %q: classes %d must be at least 2", name, cfg.Classes)
	}
	if len(cfg.InputShape) != 3 {
		return nil, errors.Errorf("zoo: model %q: input shape %v must be (height, width, channels)", name, cfg.InputShape)
	}
	if !(cfg.Width > 0) {
		return nil, errors.Errorf("zoo: model %q: width %v must be positive", name, cfg.Width)
	}
	m, err := e.build(cfg)
	return m, errors.Wrapf(err, "zoo: model %q", name)
}

// stack builds a Sequential model, dropping the head layers when the config asks.
func stack(name string, cfg Config, body []*nn.Layer, head ...*nn.Layer) (*nn.Model, error) {
	layers := append([]*nn.Layer{input(cfg)}, body...)
	if cfg.IncludeHead {
		layers = append(layers, head...)
	}
	return nn.Sequential(name, layers...)
}

func input(cfg Config) *nn.Layer {
	return nn.Input(cfg.InputShape[0], cfg.InputShape[1], cfg.InputShape[2])
}

func init() {
	Register(Info{Name: "fashion-cnn", Head: []string{"dense_1"}, LastStage: []string{"conv2d_1", "dense"},
		Description: "the course's CNN: two 3x3 convolutions (32, 64) with max pooling, dense 100, dropout 0.4"},
		func(cfg Config) (*nn.Model, error) {
			return stack("fashion-cnn", cfg, []*nn.Layer{
				nn.Conv2D(cfg.scale(32), 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
				nn.MaxPool2D(2),
				nn.Conv2D(cfg.scale(64), 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
				nn.MaxPool2D(2),
				nn.Flatten(),
				nn.Dense(cfg.scale(100), nn.Activation(nn.ReLU)),
				nn.Dropout(0.4),
			}, nn.Dense(cfg.Classes, nn.Activation(nn.Softmax)))
		})
	Register(Info{Name: "mlp", Head: []string{"dense_1"}, LastStage: []string{"dense"},
		Description: "the course's dense network: one hidden layer of 100 ReLU units"},
		func(cfg Config) (*nn.Model, error) {
			return stack("mlp", cfg, []*nn.Layer{
				nn.Flatten(),
				nn.Dense(cfg.scale(100), nn.Activation(nn.ReLU)),
			}, nn.Dense(cfg.Classes, nn.Activation(nn.Softmax)))
		})
	Register(Info{Name: "logreg", Head: []string{"dense"},
		Description: "the course's logistic regression: one dense softmax layer on the pixels"},
		func(cfg Config) (*nn.Model, error) {
			return stack("logreg", cfg, []*nn.Layer{nn.Flatten()}, nn.Dense(cfg.Classes, nn.Activation(nn.Softmax)))
		})
}
