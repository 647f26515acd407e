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
}

// An Option changes a Config.
type Option func(*Config)

// InputShape sets the input shape (height, width, channels).
func InputShape(h, w, c int) Option { return func(cfg *Config) { cfg.InputShape = nn.Shape{h, w, c} } }

// Classes sets the number of output classes.
func Classes(n int) Option { return func(cfg *Config) { cfg.Classes = n } }

// Builder makes a model from a Config.
type Builder func(cfg Config) (*nn.Model, error)

// Info describes a registered model.
type Info struct {
	Name        string
	Description string
}

type entry struct {
	info  Info
	build Builder
}

var (
	mu       sync.RWMutex
	registry = map[string]entry{}
)

// Register adds a model under name. It panics if the name is taken or empty, which is a
// programming error in the registering package.
func Register(name, description string, b Builder) {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || b == nil {
		panic("zoo: Register needs a name and a builder")
	}
	if _, dup := registry[name]; dup {
		panic("zoo: Register called twice for " + name)
	}
	registry[name] = entry{Info{name, description}, b}
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
	cfg := Config{InputShape: nn.Shape{28, 28, 1}, Classes: 10}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Classes < 2 {
		return nil, errors.Errorf("zoo: model %q: classes %d must be at least 2", name, cfg.Classes)
	}
	if len(cfg.InputShape) != 3 {
		return nil, errors.Errorf("zoo: model %q: input shape %v must be (height, width, channels)", name, cfg.InputShape)
	}
	m, err := e.build(cfg)
	return m, errors.Wrapf(err, "zoo: model %q", name)
}

func input(cfg Config) *nn.Layer {
	return nn.Input(cfg.InputShape[0], cfg.InputShape[1], cfg.InputShape[2])
}

func init() {
	Register("fashion-cnn", "the course's CNN: two 3x3 convolutions (32, 64) with max pooling, dense 100, dropout 0.4",
		func(cfg Config) (*nn.Model, error) {
			return nn.Sequential("fashion-cnn",
				input(cfg),
				nn.Conv2D(32, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
				nn.MaxPool2D(2),
				nn.Conv2D(64, 3, nn.Padding(nn.Same), nn.Activation(nn.ReLU)),
				nn.MaxPool2D(2),
				nn.Flatten(),
				nn.Dense(100, nn.Activation(nn.ReLU)),
				nn.Dropout(0.4),
				nn.Dense(cfg.Classes, nn.Activation(nn.Softmax)))
		})
	Register("mlp", "the course's dense network: one hidden layer of 100 ReLU units",
		func(cfg Config) (*nn.Model, error) {
			return nn.Sequential("mlp",
				input(cfg),
				nn.Flatten(),
				nn.Dense(100, nn.Activation(nn.ReLU)),
				nn.Dense(cfg.Classes, nn.Activation(nn.Softmax)))
		})
	Register("logreg", "the course's logistic regression: one dense softmax layer on the pixels",
		func(cfg Config) (*nn.Model, error) {
			return nn.Sequential("logreg",
				input(cfg),
				nn.Flatten(),
				nn.Dense(cfg.Classes, nn.Activation(nn.Softmax)))
		})
}
