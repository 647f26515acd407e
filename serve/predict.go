package serve

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/convgraph/convgraph/preprocess"
)

// prediction is one image's answer.
type prediction struct {
	Top           []topClass `json:"top"`
	Probabilities []float32  `json:"probabilities"`
	// Preprocessing is set when an image's background was the opposite of the training
	// images' or the image was inverted.
	Preprocessing *imageNote `json:"preprocessing,omitempty"`
}

// imageNote says what the preprocessing found and did to one uploaded image.
type imageNote struct {
	Background string `json:"background"`
	Inverted   bool   `json:"inverted"`
	Note       string `json:"note"`
}

type topClass struct {
	Class       string  `json:"class"`
	Index       int     `json:"index"`
	Probability float32 `json:"probability"`
}

// handler is a route's body: it answers 200 itself or returns the error to answer, and
// reports the model and the number of images for the log and the metrics.
type handler func(w http.ResponseWriter, r *http.Request, info *requestInfo) *httpError

type requestInfo struct {
	model   string
	images  int
	reports []preprocess.Report // one per uploaded image, in order
}

func (s *Server) model(r *http.Request) (*model, *httpError) {
	m, ok := s.models[r.PathValue("name")]
	if !ok {
		return nil, errorf(http.StatusNotFound, "no model %q (models: %v)", r.PathValue("name"), s.names)
	}
	return m, nil
}

// topK reads ?top=K (default Config.TopK, at most the number of classes).
func (s *Server) topK(r *http.Request, classes int) (int, *httpError) {
	k := s.cfg.TopK
	if v := r.URL.Query().Get("top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, errorf(http.StatusBadRequest, "top=%q: want a positive whole number", v)
		}
		k = n
	}
	return min(k, classes), nil
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request, info *requestInfo) *httpError {
	m, herr := s.model(r)
	if herr != nil {
		return herr
	}
	info.model = m.Name
	k, herr := s.topK(r, m.out[0])
	if herr != nil {
		return herr
	}
	probs, n, herr := s.run(w, r, m, info)
	if herr != nil {
		return herr
	}
	classes := m.out[0]
	out := struct {
		Model       string       `json:"model"`
		Predictions []prediction `json:"predictions"`
	}{Model: m.Name, Predictions: make([]prediction, n)}
	for i := range out.Predictions {
		row := probs[i*classes : (i+1)*classes]
		idx := make([]int, classes)
		for c := range idx {
			idx[c] = c
		}
		sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
		p := prediction{Probabilities: row}
		for _, c := range idx[:k] {
			p.Top = append(p.Top, topClass{Class: m.className(c), Index: c, Probability: row[c]})
		}
		if i < len(info.reports) {
			if r := info.reports[i]; r.Mismatch || r.Inverted {
				p.Preprocessing = &imageNote{Background: r.Background.String(), Inverted: r.Inverted, Note: r.Notice(m.pre.Background)}
			}
		}
		out.Predictions[i] = p
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (m *model) className(i int) string {
	if i < len(m.Classes) {
		return m.Classes[i]
	}
	return strconv.Itoa(i)
}

// run reads a request's inputs and gets their outputs through the model's batcher, within
// the request's time limit.
func (s *Server) run(w http.ResponseWriter, r *http.Request, m *model, info *requestInfo) ([]float32, int, *httpError) {
	if s.closed.Load() {
		return nil, 0, errorf(http.StatusServiceUnavailable, "the service is shutting down")
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	body, herr := s.readBody(w, r, deadline)
	if herr != nil {
		return nil, 0, herr
	}
	x, n, herr := s.inputs(r, m, body, info)
	if herr != nil {
		return nil, 0, herr
	}
	info.images = n
	j := &job{ctx: ctx, x: x, n: n, result: make(chan jobResult, 1)}
	if err := m.batcher.submit(j); err != nil {
		return nil, 0, errorf(http.StatusServiceUnavailable, "model %q has %d requests waiting: try again later", m.Name, s.cfg.MaxQueue)
	}
	select {
	case res := <-j.result:
		if res.err != nil {
			if ctx.Err() != nil {
				return nil, 0, s.timedOut(r)
			}
			return nil, 0, errorf(http.StatusInternalServerError, "model %q: %v", m.Name, res.err)
		}
		return res.probs, n, nil
	case <-ctx.Done():
		return nil, 0, s.timedOut(r)
	}
}

func (s *Server) timedOut(r *http.Request) *httpError {
	if r.Context().Err() != nil {
		return errorf(499, "the client closed the request") // nginx's code; nobody reads it
	}
	return errorf(http.StatusServiceUnavailable, "no answer within the time limit of %v: the service is busy, try again", s.cfg.Timeout)
}

// featureMaps answers an image's feature maps at the model's FeatureMaps layer: per
// channel, the map's values scaled to 0-255 (0 for the channel's minimum), row by row.
func (s *Server) featureMaps(w http.ResponseWriter, r *http.Request, info *requestInfo) *httpError {
	m, herr := s.model(r)
	if herr != nil {
		return herr
	}
	info.model = m.Name
	if m.features == nil {
		return errorf(http.StatusNotFound, "model %q serves no feature maps", m.Name)
	}
	if s.closed.Load() {
		return errorf(http.StatusServiceUnavailable, "the service is shutting down")
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	body, herr := s.readBody(w, r, deadline)
	if herr != nil {
		return herr
	}
	x, n, herr := s.inputs(r, m, body, info)
	if herr != nil {
		return herr
	}
	if n != 1 {
		return errorf(http.StatusBadRequest, "feature maps are for one image at a time, not %d", n)
	}
	info.images = 1
	fs := m.features.InputShape()
	out, err := m.features.Predict(tensorOf(x, fs))
	if err != nil {
		return errorf(http.StatusInternalServerError, "model %q: feature maps: %v", m.Name, err)
	}
	shape := m.features.OutputShape()
	if len(shape) != 3 {
		return errorf(http.StatusInternalServerError, "model %q: feature maps of shape %v", m.Name, shape)
	}
	h, wd, c := shape[0], shape[1], shape[2]
	vals := out.Float32s()
	maps := make([][]uint8, c)
	for ch := range maps {
		lo, hi := float32(0), float32(0)
		for p := 0; p < h*wd; p++ {
			v := vals[p*c+ch]
			if p == 0 || v < lo {
				lo = v
			}
			if p == 0 || v > hi {
				hi = v
			}
		}
		mp := make([]uint8, h*wd)
		if hi > lo {
			for p := range mp {
				mp[p] = uint8(255 * (vals[p*c+ch] - lo) / (hi - lo))
			}
		}
		maps[ch] = mp
	}
	// []uint8 would encode as base64; the page wants numbers.
	ints := make([][]int, c)
	for ch, mp := range maps {
		ints[ch] = make([]int, len(mp))
		for i, v := range mp {
			ints[ch][i] = int(v)
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Height   int     `json:"height"`
		Width    int     `json:"width"`
		Channels int     `json:"channels"`
		Maps     [][]int `json:"maps"`
	}{h, wd, c, ints})
	return nil
}
