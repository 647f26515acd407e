package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sort"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/preprocess"
)

// Config holds the service's knobs. A zero field means the default given.
type Config struct {
	// MaxBatch is the most images one inference run takes (default 32). Larger batches
	// use the cores better; a request with more images runs alone.
	MaxBatch int
	// MaxWait is how long a worker holding a batch that is not full waits for more
	// requests while another worker is computing (default 2ms). A batch formed while no
	// other worker computes runs at once, so a request that arrives alone is never
	// delayed. Zero waits only for requests already queued; set NoWait for that, since
	// zero means the default.
	MaxWait time.Duration
	// NoWait makes MaxWait zero: batches take only what is already queued.
	NoWait bool
	// Workers is how many batches of one model run at once (default: the number of
	// cores). Each holds a compiled graph and its activations.
	Workers int
	// MaxQueue is how many requests may wait for a worker per model before the service
	// answers 503 (default 1024).
	MaxQueue int
	// MaxBodyBytes bounds a request body (default 16 MiB).
	MaxBodyBytes int64
	// MaxImages bounds the images (or JSON instances) in one request (default 64).
	MaxImages int
	// MaxImagePixels bounds an uploaded image's width × height, from its header, before
	// it is decoded (default 4096×4096).
	MaxImagePixels int
	// Timeout bounds a request from its first byte to its answer (default 30s): reading
	// the body, waiting for a batch and computing it.
	Timeout time.Duration
	// TopK is how many classes an answer lists by default (default 5); a request may ask
	// for another number with ?top=K.
	TopK int
	// Logger receives one line per request and the service's events (default: slog's
	// default logger).
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.MaxBatch == 0 {
		c.MaxBatch = 32
	}
	if c.MaxWait == 0 && !c.NoWait {
		c.MaxWait = 2 * time.Millisecond
	}
	if c.NoWait {
		c.MaxWait = 0
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = 1024
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 16 << 20
	}
	if c.MaxImages == 0 {
		c.MaxImages = 64
	}
	if c.MaxImagePixels == 0 {
		c.MaxImagePixels = 4096 * 4096
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.TopK == 0 {
		c.TopK = 5
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	for _, v := range []struct {
		name string
		v    int64
	}{{"MaxBatch", int64(c.MaxBatch)}, {"Workers", int64(c.Workers)}, {"MaxQueue", int64(c.MaxQueue)},
		{"MaxBodyBytes", c.MaxBodyBytes}, {"MaxImages", int64(c.MaxImages)}, {"MaxImagePixels", int64(c.MaxImagePixels)},
		{"TopK", int64(c.TopK)}, {"Timeout", int64(c.Timeout)}, {"MaxWait", int64(c.MaxWait) + 1}} {
		if v.v <= 0 {
			return errors.Errorf("serve: %s must be positive", v.name)
		}
	}
	return nil
}

// Model is one model the service answers for.
type Model struct {
	// Name is the model's name in the URL: /v1/models/{Name}/predict.
	Name string
	// Predictor runs the model; it must take (height, width, channels) images or
	// vectors and give one probability per class.
	Predictor *nn.Predictor
	// Classes names the classes (index i is Classes[i]); nil names them by index.
	Classes []string
	// Normalization, if set, replaces the scaling of the Predictor's preprocessing
	// (nn.Predictor.Preprocessing, which uploaded images go through: resized with the
	// aspect ratio kept, converted, inverted when their background is the opposite of
	// the training images', scaled). JSON instances are taken as they are.
	Normalization data.Normalization
	// FeatureMaps, if set, gives the feature maps the web page shows for an image (a
	// Predictor ending at the first convolution: nn.OutputLayer).
	FeatureMaps *nn.Predictor
}

type model struct {
	Model
	pred     predictor
	features predictor
	pre      preprocess.Config // how uploaded images become inputs
	in, out  nn.Shape
	batcher  *batcher
	metrics  *modelMetrics
}

// Server is an HTTP inference service for one or more models. Make one with [New]; its
// [Server.Handler] serves the routes of docs/serving.md. It is safe for concurrent use.
type Server struct {
	cfg      Config
	models   map[string]*model
	names    []string
	log      *slog.Logger
	reg      *prometheus.Registry
	metrics  *metrics
	draining atomic.Bool
	closed   atomic.Bool
	mux      *http.ServeMux
}

// New makes a service for models (at least one, with distinct names) and starts their
// batch workers; [Server.Close] stops them.
func New(models []Model, cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if len(models) == 0 {
		return nil, errors.New("serve: no models to serve")
	}
	s := &Server{cfg: cfg, models: map[string]*model{}, log: cfg.Logger, reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(s.reg)
	for _, mm := range models {
		if mm.Predictor == nil {
			return nil, errors.Errorf("serve: model %q has no predictor", mm.Name)
		}
		var features predictor
		if mm.FeatureMaps != nil {
			features = mm.FeatureMaps
		}
		if _, err := s.addModel(mm, mm.Predictor, features); err != nil {
			return nil, err
		}
	}
	for _, m := range s.models {
		m.batcher.start()
	}
	s.routes()
	return s, nil
}

func (s *Server) addModel(mm Model, pred, features predictor) (*model, error) {
	if !validName(mm.Name) {
		return nil, errors.Errorf("serve: model name %q: use letters, digits, '-', '_' and '.'", mm.Name)
	}
	if _, dup := s.models[mm.Name]; dup {
		return nil, errors.Errorf("serve: model %q given twice", mm.Name)
	}
	in, out := pred.InputShape(), pred.OutputShape()
	if len(out) != 1 {
		return nil, errors.Errorf("serve: model %q gives outputs of shape %v; want one probability per class", mm.Name, out)
	}
	if len(in) != 3 && len(in) != 1 {
		return nil, errors.Errorf("serve: model %q takes inputs of shape %v; want (height, width, channels) or (features)", mm.Name, in)
	}
	if mm.Classes != nil && len(mm.Classes) != out[0] {
		return nil, errors.Errorf("serve: model %q has %d classes but %d class names", mm.Name, out[0], len(mm.Classes))
	}
	pre, err := preprocessing(mm, in)
	if err != nil {
		return nil, err
	}
	m := &model{Model: mm, pred: pred, features: features, pre: pre, in: in, out: out, metrics: s.metrics.forModel(mm.Name)}
	m.batcher = newBatcher(m, &s.cfg)
	s.metrics.watchQueue(mm.Name, func() int { return len(m.batcher.queue) })
	s.models[mm.Name] = m
	s.names = append(s.names, mm.Name)
	sort.Strings(s.names)
	return m, nil
}

// preprocessing is the model's stored preprocessing with Model.Normalization's scaling,
// if set, in place of its own.
func preprocessing(mm Model, in nn.Shape) (preprocess.Config, error) {
	var pre preprocess.Config
	if mm.Predictor != nil {
		pre = mm.Predictor.Preprocessing()
	}
	if n := mm.Normalization; n.Scale != 0 || n.Offset != 0 || n.Mean != nil || n.Std != nil {
		pre.Scale, pre.Offset, pre.Mean, pre.Std = float64(n.Scale), float64(n.Offset), nil, nil
		for i := range n.Mean {
			pre.Mean = append(pre.Mean, float64(n.Mean[i]))
		}
		for i := range n.Std {
			pre.Std = append(pre.Std, float64(n.Std[i]))
		}
	}
	pre, err := pre.ForInput(in)
	return pre, errors.Wrapf(err, "serve: model %q", mm.Name)
}

func validName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// Handler is the service's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Drain makes /readyz answer 503 so that load balancers stop sending requests, while the
// service keeps answering the ones that still come. Call it when shutdown starts.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops the batch workers after the requests already queued are answered. Call it
// after http.Server.Shutdown has returned; requests after Close get 503.
func (s *Server) Close() {
	if s.closed.Swap(true) {
		return
	}
	s.draining.Store(true)
	for _, m := range s.models {
		m.batcher.stop()
	}
}

// Run serves on addr until ctx is cancelled (SIGTERM, Ctrl-C), then shuts down
// gracefully: /readyz turns 503, new connections are refused, requests in flight finish
// (for at most grace), and the workers stop. ready, if not nil, is called with the
// listening address once the service accepts connections.
func (s *Server) Run(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "models", s.names, "max_batch", s.cfg.MaxBatch,
		"max_wait", s.cfg.MaxWait.String(), "workers", s.cfg.Workers)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return errors.Wrap(err, "serve")
	case <-ctx.Done():
	}
	s.log.Info("shutting down: refusing new connections, finishing requests in flight", "grace", grace.String())
	s.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.Shutdown(sctx)
	s.Close()
	if err != nil {
		srv.Close()
		return errors.Wrapf(err, "serve: requests still running after %v", grace)
	}
	s.log.Info("stopped")
	return nil
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "shutting down")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /v1/models", s.listModels)
	mux.HandleFunc("GET /v1/models/{name}", s.describeModel)
	mux.HandleFunc("POST /v1/models/{name}/predict", s.instrument("predict", s.predict))
	mux.HandleFunc("POST /v1/models/{name}/features", s.instrument("features", s.featureMaps))
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "no route %s %s (see GET /v1/models)", r.Method, r.URL.Path)
	})
	s.mux = mux
}

// modelInfo is what GET /v1/models lists per model.
type modelInfo struct {
	Name        string   `json:"name"`
	InputShape  []int    `json:"input_shape"`
	Classes     []string `json:"classes"`
	FeatureMaps bool     `json:"feature_maps"`
}

func (s *Server) info(m *model) modelInfo {
	classes := m.Classes
	if classes == nil {
		for i := 0; i < m.out[0]; i++ {
			classes = append(classes, fmt.Sprint(i))
		}
	}
	return modelInfo{Name: m.Name, InputShape: []int(m.in), Classes: classes, FeatureMaps: m.features != nil}
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	out := struct {
		Models []modelInfo `json:"models"`
	}{Models: []modelInfo{}}
	for _, n := range s.names {
		out.Models = append(out.Models, s.info(s.models[n]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) describeModel(w http.ResponseWriter, r *http.Request) {
	m, ok := s.models[r.PathValue("name")]
	if !ok {
		s.fail(w, r, http.StatusNotFound, "no model %q (models: %v)", r.PathValue("name"), s.names)
		return
	}
	writeJSON(w, http.StatusOK, s.info(m))
}

// httpError is an answer other than 200: a status and a one-line reason.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	writeError(w, errorf(status, format, args...))
}

func writeError(w http.ResponseWriter, e *httpError) {
	if e.status == http.StatusServiceUnavailable || e.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, struct {
		Error string `json:"error"`
	}{oneLine(e.msg)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client may be gone; nothing to do about it
}

// oneLine keeps the first line of a message, so that every error answer is one line.
func oneLine(s string) string {
	for i, r := range s {
		if r == '\n' || r == '\r' {
			return s[:i]
		}
	}
	return s
}
