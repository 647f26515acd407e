package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/preprocess"
)

// readBody reads the whole request body within the size limit and the deadline.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, deadline time.Time) ([]byte, *httpError) {
	// The read deadline catches clients that send slowly (or stop): the limit applies
	// to the whole body, not to each read. Recorders in tests do not support it.
	_ = http.NewResponseController(w).SetReadDeadline(deadline)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case err == nil:
		if len(body) == 0 {
			return nil, errorf(http.StatusBadRequest, "empty request body: send an image (image/png, image/jpeg), multipart/form-data images or JSON instances")
		}
		return body, nil
	case errors.As(err, &tooBig):
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body larger than the limit of %d bytes", s.cfg.MaxBodyBytes)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return nil, errorf(http.StatusRequestTimeout, "the request body did not arrive within %v", s.cfg.Timeout)
	default:
		return nil, errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
}

// inputs turns a request body into n examples of the model's input, NHWC float32.
func (s *Server) inputs(r *http.Request, m *model, body []byte, info *requestInfo) ([]float32, int, *httpError) {
	inv := preprocess.InvertAuto
	if v := r.URL.Query().Get("invert"); v != "" {
		var err error
		if inv, err = preprocess.ParseInvert(v); err != nil {
			return nil, 0, errorf(http.StatusBadRequest, "invert=%q: want auto, yes or no", v)
		}
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" {
		mt, err = "application/octet-stream", nil
	}
	if err != nil {
		return nil, 0, errorf(http.StatusUnsupportedMediaType, "Content-Type %q does not parse: %v", ct, err)
	}
	switch mt {
	case "application/json":
		return s.jsonInputs(m, body)
	case "image/png", "image/jpeg", "application/octet-stream":
		x, err := s.image(m, body, "the image", inv, info)
		if err != nil {
			return nil, 0, err
		}
		return x, 1, nil
	case "multipart/form-data":
		return s.multipartInputs(m, body, params["boundary"], inv, info)
	}
	return nil, 0, errorf(http.StatusUnsupportedMediaType, "Content-Type %q is not accepted: send image/png, image/jpeg, multipart/form-data or application/json", mt)
}

// image decodes one PNG or JPEG into the model's input, checking its header first, by
// the model's preprocessing (the one code path nn's PredictEncoded takes), and records
// what the preprocessing did in info.
func (s *Server) image(m *model, b []byte, what string, inv preprocess.Invert, info *requestInfo) ([]float32, *httpError) {
	if len(m.in) != 3 {
		return nil, errorf(http.StatusBadRequest, "model %q takes vectors of %d values, not images: send JSON instances", m.Name, m.in[0])
	}
	cfg, format, err := data.ImageConfig(b)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%s is not a PNG or JPEG image: %v", what, err)
	}
	if format != "png" && format != "jpeg" {
		return nil, errorf(http.StatusUnsupportedMediaType, "%s is a %s image: send PNG or JPEG", what, format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(s.cfg.MaxImagePixels) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "%s is %dx%d pixels; the limit is %d pixels", what, cfg.Width, cfg.Height, s.cfg.MaxImagePixels)
	}
	x, rep, err := m.pre.Decode(b, what, preprocess.WithInvert(inv), preprocess.MaxPixels(int64(s.cfg.MaxImagePixels)))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	info.reports = append(info.reports, rep)
	return x, nil
}

func (s *Server) multipartInputs(m *model, body []byte, boundary string, inv preprocess.Invert, info *requestInfo) ([]float32, int, *httpError) {
	if boundary == "" {
		return nil, 0, errorf(http.StatusBadRequest, "multipart/form-data without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var x []float32
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, errorf(http.StatusBadRequest, "multipart body: %v", err)
		}
		if p.FileName() == "" && p.FormName() == "top" {
			continue // a form field, not an image
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, 0, errorf(http.StatusBadRequest, "multipart part %d: %v", n+1, err)
		}
		if n == s.cfg.MaxImages {
			return nil, 0, errorf(http.StatusRequestEntityTooLarge, "more than %d images in one request", s.cfg.MaxImages)
		}
		name := p.FileName()
		if name == "" {
			name = p.FormName()
		}
		xi, herr := s.image(m, b, fmt.Sprintf("image %d (%q)", n+1, name), inv, info)
		if herr != nil {
			return nil, 0, herr
		}
		x = append(x, xi...)
		n++
	}
	if n == 0 {
		return nil, 0, errorf(http.StatusBadRequest, "the multipart body has no images")
	}
	return x, n, nil
}

// jsonInputs reads {"instances": [...]}: each instance an array of the model's input
// shape, (height, width, channels) for images, taken as model inputs (already
// normalised).
func (s *Server) jsonInputs(m *model, body []byte) ([]float32, int, *httpError) {
	var req struct {
		Instances []json.RawMessage `json:"instances"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, 0, errorf(http.StatusBadRequest, "JSON body: %v (want {\"instances\": [...]})", err)
	}
	if dec.More() {
		return nil, 0, errorf(http.StatusBadRequest, "JSON body: more than one value")
	}
	if len(req.Instances) == 0 {
		return nil, 0, errorf(http.StatusBadRequest, "JSON body: no instances")
	}
	if len(req.Instances) > s.cfg.MaxImages {
		return nil, 0, errorf(http.StatusRequestEntityTooLarge, "%d instances in one request; the limit is %d", len(req.Instances), s.cfg.MaxImages)
	}
	per := m.in.Size()
	x := make([]float32, 0, len(req.Instances)*per)
	for i, raw := range req.Instances {
		var err error
		x, err = appendInstance(x, raw, m.in)
		if err != nil {
			return nil, 0, errorf(http.StatusBadRequest, "instance %d: %v", i, err)
		}
	}
	return x, len(req.Instances), nil
}

// appendInstance appends one nested JSON array of exactly shape's sizes.
func appendInstance(x []float32, raw json.RawMessage, shape []int) ([]float32, error) {
	x, err := fill(x, raw, shape, 1)
	if err != nil {
		return nil, fmt.Errorf("want a (%s) array of numbers: %v", shapeText(shape), err)
	}
	return x, nil
}

func fill(x []float32, raw json.RawMessage, shape []int, depth int) ([]float32, error) {
	if len(shape) == 0 {
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("found %.20s where a number belongs", string(raw))
		}
		if math.Abs(v) > math.MaxFloat32 {
			return nil, fmt.Errorf("value %g is outside float32's range", v)
		}
		return append(x, float32(v)), nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("found %.20s where an array belongs (depth %d)", string(raw), depth)
	}
	if len(items) != shape[0] {
		return nil, fmt.Errorf("found %d items where %d belong (depth %d)", len(items), shape[0], depth)
	}
	for _, it := range items {
		var err error
		if x, err = fill(x, it, shape[1:], depth+1); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ", ")
}
