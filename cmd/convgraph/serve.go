package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/errors"
	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/limits"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/serve"
	"github.com/convgraph/convgraph/train"
	"github.com/convgraph/convgraph/zoo"
)

func newServe() *cobra.Command {
	var (
		addr, maxBody, logFormat, logLevel string
		checkpoints, models                []string
		pretrained, noWait                 bool
		cfg                                serve.Config
		grace                              time.Duration
	)
	c := &cobra.Command{
		Use:   "serve (--checkpoint [NAME=]FILE | --model NAME --pretrained)... [--addr HOST:PORT]",
		Short: "Serve models over HTTP: predictions as JSON, micro-batching, Prometheus metrics, a web page",
		Long: `Serve one or more models over HTTP (docs/serving.md):

  POST /v1/models/{name}/predict   an image (image/png, image/jpeg), multipart images,
                                   or JSON {"instances": [...]} in (height, width, channels)
  GET  /v1/models                  the models, their input shapes and classes
  GET  /healthz, /readyz, /metrics liveness, readiness (503 while shutting down), Prometheus
  GET  /                           a page to upload or draw an image

SIGTERM or Ctrl-C shuts down gracefully: /readyz turns 503, new connections are refused,
requests in flight finish (for at most --grace).`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(checkpoints) == 0 && len(models) == 0 {
				return usagef("serve needs --checkpoint [NAME=]FILE or --model NAME --pretrained")
			}
			if len(models) > 0 && !pretrained {
				return usagef("--model %s needs --pretrained (serving freshly initialized weights answers nothing useful)", models[0])
			}
			if pretrained && len(models) == 0 {
				return usagef("--pretrained needs --model NAME")
			}
			if maxBody != "" {
				n, err := limits.ParseBytes(maxBody)
				if err != nil || n <= 0 {
					return usagef("--max-body %q: want a size such as 16MiB", maxBody)
				}
				cfg.MaxBodyBytes = n
			}
			for _, f := range []struct {
				name string
				v    int64
			}{{"--max-batch", int64(cfg.MaxBatch)}, {"--workers", int64(cfg.Workers)}, {"--max-queue", int64(cfg.MaxQueue)},
				{"--max-images", int64(cfg.MaxImages)}, {"--max-image-pixels", int64(cfg.MaxImagePixels)}, {"--top", int64(cfg.TopK)},
				{"--timeout", int64(cfg.Timeout)}, {"--max-wait", int64(cfg.MaxWait)}, {"--grace", int64(grace)}} {
				if f.v < 0 {
					return usagef("%s must not be negative", f.name)
				}
			}
			cfg.NoWait = noWait || c.Flags().Changed("max-wait") && cfg.MaxWait == 0
			logger, err := newLogger(c, logFormat, logLevel)
			if err != nil {
				return err
			}
			cfg.Logger = logger
			var served []serve.Model
			for _, spec := range checkpoints {
				name, file, ok := strings.Cut(spec, "=")
				if !ok {
					name, file = "", spec
				}
				saved, err := train.Load(file)
				if err != nil {
					return err
				}
				if name == "" {
					name = saved.Model.Name()
				}
				sm, err := servedModel(name, saved.Model, savedClasses(saved.Extra))
				if err != nil {
					return err
				}
				served = append(served, sm)
			}
			for _, spec := range models {
				name, zooName, ok := strings.Cut(spec, "=")
				if !ok {
					name, zooName = spec, spec
				}
				if _, ok := zoo.Lookup(zooName); !ok {
					return usagef("--model %s: no zoo model %q (models: %s)", spec, zooName, strings.Join(zoo.Names(), ", "))
				}
				m, _, err := zoo.Pretrained(zooName)
				if err != nil {
					return usageError{err}
				}
				fashion, _ := data.Lookup(data.FashionMNIST)
				sm, err := servedModel(name, m, fashion.Classes)
				if err != nil {
					return err
				}
				served = append(served, sm)
			}
			srv, err := serve.New(served, cfg)
			if err != nil {
				return usageError{err}
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := c.OutOrStdout()
			return srv.Run(ctx, addr, grace, func(a string) { fmt.Fprintf(out, "serving on http://%s\n", a) })
		},
	}
	fl := c.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on, HOST:PORT (port 0 picks a free one)")
	fl.StringArrayVar(&checkpoints, "checkpoint", nil, "checkpoint to serve, FILE or NAME=FILE (repeatable; the name defaults to the model's)")
	fl.StringArrayVar(&models, "model", nil, "zoo model to serve with --pretrained, NAME or SERVED=NAME (repeatable)")
	fl.BoolVar(&pretrained, "pretrained", false, "serve the zoo models' shipped weights")
	fl.IntVar(&cfg.MaxBatch, "max-batch", 32, "most images one inference run takes")
	fl.DurationVar(&cfg.MaxWait, "max-wait", 2*time.Millisecond, "how long a batch that is not full waits for more requests while another batch computes (0: never)")
	fl.BoolVar(&noWait, "no-wait", false, "same as --max-wait 0")
	fl.IntVar(&cfg.Workers, "workers", 0, "batches of one model computed at once (default: the number of cores)")
	fl.IntVar(&cfg.MaxQueue, "max-queue", 1024, "requests that may wait per model before the service answers 503")
	fl.StringVar(&maxBody, "max-body", "16MiB", "largest request body")
	fl.IntVar(&cfg.MaxImages, "max-images", 64, "most images (or JSON instances) in one request")
	fl.IntVar(&cfg.MaxImagePixels, "max-image-pixels", 4096*4096, "largest image, width × height, checked before decoding")
	fl.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "time limit of a request, from its first byte to its answer")
	fl.IntVar(&cfg.TopK, "top", 5, "classes listed per image unless the request asks ?top=K")
	fl.DurationVar(&grace, "grace", 30*time.Second, "how long shutdown waits for requests in flight")
	fl.StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringVar(&logLevel, "log-level", "info", "least level logged: debug, info, warn or error")
	return c
}

// servedModel wraps a model for the service, with the feature maps of its first
// convolution for the web page.
func servedModel(name string, m *nn.Model, classes []string) (serve.Model, error) {
	if len(m.InputShape()) != 3 && len(m.InputShape()) != 1 || len(m.OutputShape()) != 1 {
		return serve.Model{}, errors.Errorf("model %q takes %v and gives %v: serve needs a classifier", m.Name(), m.InputShape(), m.OutputShape())
	}
	pred, err := nn.NewPredictor(m)
	if err != nil {
		return serve.Model{}, err
	}
	sm := serve.Model{Name: name, Predictor: pred}
	if len(classes) == m.OutputShape()[0] {
		sm.Classes = classes
	}
	for _, l := range m.Layers() {
		if l.Kind == "Conv2D" {
			if sm.FeatureMaps, err = nn.NewPredictor(m, nn.OutputLayer(l.Name)); err != nil {
				return serve.Model{}, err
			}
			break
		}
	}
	return sm, nil
}

func newLogger(c *cobra.Command, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(c.ErrOrStderr(), opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(c.ErrOrStderr(), opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}
