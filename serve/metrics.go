package serve

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus series (docs/serving.md lists them).
type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	images    *prometheus.CounterVec
	batchSize *prometheus.HistogramVec
	inference *prometheus.HistogramVec
	reg       *prometheus.Registry
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convgraph_requests_total", Help: "HTTP requests to the model routes, by model, route and status code.",
		}, []string{"model", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "convgraph_request_duration_seconds", Help: "Time from a request's arrival to its answer, by model and route.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10, 30},
		}, []string{"model", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "convgraph_in_flight_requests", Help: "Requests to the model routes being answered now.",
		}),
		images: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "convgraph_images_total", Help: "Images (or JSON instances) predicted, by model.",
		}, []string{"model"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "convgraph_batch_size", Help: "Images per inference run, after micro-batching, by model.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}, []string{"model"}),
		inference: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "convgraph_inference_duration_seconds", Help: "Time of one inference run (one batch), by model.",
			Buckets: []float64{.0001, .0002, .0005, .001, .002, .005, .01, .02, .05, .1, .2, .5, 1},
		}, []string{"model"}),
		reg: reg,
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.images, m.batchSize, m.inference)
	return m
}

// modelMetrics are one model's series.
type modelMetrics struct {
	images    prometheus.Counter
	batchSize prometheus.Observer
	inference prometheus.Observer
}

func (m *metrics) forModel(name string) *modelMetrics {
	return &modelMetrics{images: m.images.WithLabelValues(name), batchSize: m.batchSize.WithLabelValues(name),
		inference: m.inference.WithLabelValues(name)}
}

func (m *modelMetrics) observeBatch(n int, d time.Duration) {
	m.images.Add(float64(n))
	m.batchSize.Observe(float64(n))
	m.inference.Observe(d.Seconds())
}

// watchModelQueue exports a model's queue length.
func (m *metrics) watchQueue(name string, length func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "convgraph_queued_requests", Help: "Requests waiting for an inference worker.",
		ConstLabels: prometheus.Labels{"model": name},
	}, func() float64 { return float64(length()) }))
}

// statusWriter records the status code a handler answers.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (read deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument wraps a model route: in-flight gauge, request count and latency by status
// code, a log line per request, and the answer to a returned error. A panic in the
// handler is an error answer, never the end of the process.
func (s *Server) instrument(route string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		sw := &statusWriter{ResponseWriter: w}
		info := &requestInfo{}
		var herr *httpError
		func() {
			defer func() {
				if p := recover(); p != nil {
					herr = errorf(http.StatusInternalServerError, "internal error: %v", p)
					s.log.Error("panic in a handler", "route", route, "panic", p)
				}
			}()
			herr = h(sw, r, info)
		}()
		if herr != nil && sw.code == 0 {
			writeError(sw, herr)
		}
		code := sw.code
		if herr != nil {
			code = herr.status
		}
		d := time.Since(start)
		model := info.model
		if model == "" {
			model = "unknown" // keep the label set bounded: no user-chosen names
		}
		s.metrics.requests.WithLabelValues(model, route, strconv.Itoa(code)).Inc()
		s.metrics.duration.WithLabelValues(model, route).Observe(d.Seconds())
		attrs := []any{"method", r.Method, "path", r.URL.Path, "model", model, "status", code,
			"images", info.images, "duration_ms", float64(d.Microseconds()) / 1000, "remote", r.RemoteAddr}
		if herr != nil {
			attrs = append(attrs, "error", herr.msg)
		}
		level := slog.LevelInfo
		if code >= 500 && code != 503 && code != 499 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request", attrs...)
	}
}
