package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/kernels"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/zoo"
)

// fixture is a running service with the pretrained course CNN under "fashion-cnn", and the
// library's own answers to compare with.
type fixture struct {
	srv    *Server
	ts     *httptest.Server
	pred   *nn.Predictor
	sample *data.Dataset
	logs   *lockedWriter
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	m, _, err := zoo.Pretrained("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	pred, err := nn.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := nn.NewPredictor(m, nn.OutputLayer("conv2d"))
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := data.Lookup(data.FashionMNIST)
	logs := &lockedWriter{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	srv, err := New([]Model{{Name: "fashion-cnn", Predictor: pred, Classes: spec.Classes, FeatureMaps: maps}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	s, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, ts: ts, pred: pred, sample: s.Test, logs: logs}
}

// lockedWriter collects the service's log lines from its goroutines.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// pngOf encodes sample image i as a PNG.
func (f *fixture) pngOf(t testing.TB, i int) []byte {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(img.Pix, f.sample.Image(i))
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// want is the library's answer for sample image i.
func (f *fixture) want(t testing.TB, i int) []float32 {
	x := make([]float32, 784)
	data.Normalization{}.Apply(x, f.sample.Image(i), 1)
	out, err := f.pred.Predict(tensor.New(tensor.WithShape(1, 28, 28, 1), tensor.WithBacking(x)))
	if err != nil {
		t.Fatal(err)
	}
	return out.Float32s()
}

type answer struct {
	Model       string `json:"model"`
	Predictions []struct {
		Top []struct {
			Class       string  `json:"class"`
			Index       int     `json:"index"`
			Probability float32 `json:"probability"`
		} `json:"top"`
		Probabilities []float32 `json:"probabilities"`
	} `json:"predictions"`
	Error string `json:"error"`
}

func post(t testing.TB, url, ctype string, body []byte) (int, answer) {
	resp, err := http.Post(url, ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("POST %s: %d with a body that is not JSON: %q", url, resp.StatusCode, raw)
	}
	return resp.StatusCode, a
}

// exact reports whether answers must equal the library's bit for bit: an image's result
// does not depend on its batch on these compute paths.
func exact() bool { return kernels.Backend() != kernels.PathOpenBLAS }

func sameProbs(got, want []float32) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		d := got[i] - want[i]
		if exact() && d != 0 || d > 1e-6 || d < -1e-6 {
			return false
		}
	}
	return true
}

func TestPredictEveryBodyKind(t *testing.T) {
	f := newFixture(t, Config{})
	url := f.ts.URL + "/v1/models/fashion-cnn/predict"
	check := func(what string, a answer, images ...int) {
		t.Helper()
		if len(a.Predictions) != len(images) {
			t.Fatalf("%s: %d predictions for %d images (%s)", what, len(a.Predictions), len(images), a.Error)
		}
		for k, i := range images {
			p := a.Predictions[k]
			if !sameProbs(p.Probabilities, f.want(t, i)) {
				t.Errorf("%s: image %d: %v; the library says %v", what, i, p.Probabilities, f.want(t, i))
			}
			if len(p.Top) != 5 || p.Top[0].Probability < p.Top[1].Probability || p.Top[0].Probability != p.Probabilities[p.Top[0].Index] {
				t.Errorf("%s: image %d: top %+v", what, i, p.Top)
			}
		}
	}
	// A raw PNG.
	code, a := post(t, url, "image/png", f.pngOf(t, 0))
	if code != 200 {
		t.Fatalf("PNG: %d %s", code, a.Error)
	}
	check("PNG", a, 0)
	spec, _ := data.Lookup(data.FashionMNIST)
	if got, want := a.Predictions[0].Top[0].Class, spec.Classes[f.sample.Label(0)]; got != want {
		t.Errorf("the first sample image is a %s; the service says %s", want, got)
	}
	// A JPEG of a larger image, resized by the service; just check it answers.
	big := image.NewGray(image.Rect(0, 0, 100, 80))
	var jb bytes.Buffer
	if err := encodeJPEG(&jb, big); err != nil {
		t.Fatal(err)
	}
	if code, a := post(t, url, "image/jpeg", jb.Bytes()); code != 200 || len(a.Predictions) != 1 {
		t.Errorf("JPEG: %d %s", code, a.Error)
	}
	// Several images as multipart.
	var mb bytes.Buffer
	mw := multipart.NewWriter(&mb)
	for _, i := range []int{3, 4, 5} {
		w, _ := mw.CreateFormFile("image", fmt.Sprintf("img%d.png", i))
		w.Write(f.pngOf(t, i))
	}
	mw.Close()
	code, a = post(t, url, mw.FormDataContentType(), mb.Bytes())
	if code != 200 {
		t.Fatalf("multipart: %d %s", code, a.Error)
	}
	check("multipart", a, 3, 4, 5)
	// JSON instances (height, width, channels), already normalised.
	var inst [][][][]float32
	for _, i := range []int{7, 8} {
		x := make([]float32, 784)
		data.Normalization{}.Apply(x, f.sample.Image(i), 1)
		img := make([][][]float32, 28)
		for r := range img {
			img[r] = make([][]float32, 28)
			for c := range img[r] {
				img[r][c] = []float32{x[r*28+c]}
			}
		}
		inst = append(inst, img)
	}
	body, _ := json.Marshal(map[string]any{"instances": inst})
	code, a = post(t, url+"?top=3", "application/json", body)
	if code != 200 {
		t.Fatalf("JSON: %d %s", code, a.Error)
	}
	check2 := a.Predictions[0].Top
	if len(check2) != 3 {
		t.Errorf("top=3 gave %d classes", len(check2))
	}
	for k, i := range []int{7, 8} {
		if !sameProbs(a.Predictions[k].Probabilities, f.want(t, i)) {
			t.Errorf("JSON image %d differs from the library", i)
		}
	}
}

func encodeJPEG(w io.Writer, img image.Image) error {
	return jpegEncode(w, img)
}

func TestModelsHealthMetricsAndPage(t *testing.T) {
	f := newFixture(t, Config{})
	get := func(path string) (int, string) {
		resp, err := http.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/v1/models"); code != 200 || !strings.Contains(body, `"name":"fashion-cnn"`) || !strings.Contains(body, `"input_shape":[28,28,1]`) || !strings.Contains(body, `"Ankle boot"`) {
		t.Errorf("/v1/models: %d %s", code, body)
	}
	if code, body := get("/v1/models/fashion-cnn"); code != 200 || !strings.Contains(body, `"feature_maps":true`) {
		t.Errorf("/v1/models/fashion-cnn: %d %s", code, body)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "<canvas id=\"pad\"") {
		t.Errorf("/: %d", code)
	}
	post(t, f.ts.URL+"/v1/models/fashion-cnn/predict", "image/png", f.pngOf(t, 1))
	post(t, f.ts.URL+"/v1/models/nope/predict", "image/png", f.pngOf(t, 1))
	code, body := get("/metrics")
	for _, want := range []string{
		`convgraph_requests_total{code="200",model="fashion-cnn",route="predict"} 1`,
		`convgraph_requests_total{code="404",model="unknown",route="predict"} 1`,
		`convgraph_request_duration_seconds_count{model="fashion-cnn",route="predict"} 1`,
		`convgraph_batch_size_count{model="fashion-cnn"} 1`,
		`convgraph_images_total{model="fashion-cnn"} 1`,
		`convgraph_inference_duration_seconds_bucket`,
		`convgraph_in_flight_requests 0`,
		`convgraph_queued_requests{model="fashion-cnn"} 0`,
		`go_goroutines`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Feature maps of the first convolution: 32 maps of 28x28.
	resp, err := http.Post(f.ts.URL+"/v1/models/fashion-cnn/features", "image/png", bytes.NewReader(f.pngOf(t, 0)))
	if err != nil {
		t.Fatal(err)
	}
	var fm struct {
		Height, Width, Channels int
		Maps                    [][]int
	}
	json.NewDecoder(resp.Body).Decode(&fm)
	resp.Body.Close()
	if resp.StatusCode != 200 || fm.Channels != 32 || len(fm.Maps) != 32 || len(fm.Maps[0]) != 28*28 {
		t.Errorf("features: %d, %d maps of %dx%d", resp.StatusCode, len(fm.Maps), fm.Height, fm.Width)
	}
	// The log has a line per request, with its status (written after the answer).
	for i := 0; i < 100 && !strings.Contains(f.logs.String(), `"status":404`); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(f.logs.String(), `"status":404`) {
		t.Errorf("no log line for the 404: %s", f.logs.String())
	}
}

// pngHeader is a PNG's signature and IHDR chunk claiming w×h gray pixels, and nothing
// else: enough for image.DecodeConfig.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit gray
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// Bad requests get a 4xx and a one-line reason; none takes the service down.
func TestBadRequests(t *testing.T) {
	f := newFixture(t, Config{MaxBodyBytes: 1 << 20, MaxImages: 4, MaxImagePixels: 1000 * 1000})
	url := f.ts.URL + "/v1/models/fashion-cnn/predict"
	good := f.pngOf(t, 0)
	var gifb bytes.Buffer
	gif.Encode(&gifb, image.NewPaletted(image.Rect(0, 0, 28, 28), []color.Color{color.Black, color.White}), nil)
	multi := func(parts ...[]byte) (string, []byte) {
		var mb bytes.Buffer
		mw := multipart.NewWriter(&mb)
		for i, p := range parts {
			w, _ := mw.CreateFormFile("image", fmt.Sprintf("f%d.png", i))
			w.Write(p)
		}
		mw.Close()
		return mw.FormDataContentType(), mb.Bytes()
	}
	mct, tooMany := multi(good, good, good, good, good)
	mct2, badPart := multi(good, []byte("not an image"))
	row := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("[0.5],", n), ",") + "]" }
	img := func(rows, cols int) string {
		return "[" + strings.TrimSuffix(strings.Repeat(row(cols)+",", rows), ",") + "]"
	}
	for _, tc := range []struct {
		name, path, ctype string
		body              []byte
		code              int
		want              string
	}{
		{"garbage bytes", "", "image/png", []byte("\x00\x01garbage"), 400, "is not a PNG or JPEG image"},
		{"garbage, no content type", "", "", []byte("hello"), 400, "is not a PNG or JPEG image"},
		{"empty body", "", "image/png", nil, 400, "empty request body"},
		{"truncated PNG", "", "image/png", good[:len(good)/2], 400, "cannot decode"},
		{"huge image header", "", "image/png", pngHeader(100000, 100000), 413, "100000x100000 pixels; the limit is 1000000 pixels"},
		{"zero-size image header", "", "image/png", pngHeader(0, 0), 400, ""},
		{"GIF", "", "image/gif", gifb.Bytes(), 415, `Content-Type "image/gif" is not accepted`},
		{"GIF sent as PNG", "", "image/png", gifb.Bytes(), 415, "is a gif image"},
		{"body over the limit", "", "image/png", bytes.Repeat([]byte("x"), 2<<20), 413, "larger than the limit of 1048576 bytes"},
		{"unknown model", "/v1/models/resnet-huge/predict", "image/png", good, 404, `no model "resnet-huge"`},
		{"unknown route", "/v2/predict", "image/png", good, 404, "no route POST /v2/predict"},
		{"bad content type", "", "text/plain", []byte("hi"), 415, `Content-Type "text/plain" is not accepted`},
		{"unparsable content type", "", "image/png; ===", good, 415, "does not parse"},
		{"top not a number", "?top=abc", "image/png", good, 400, `top="abc"`},
		{"top zero", "?top=0", "image/png", good, 400, `top="0"`},
		{"too many images", "", mct, tooMany, 413, "more than 4 images"},
		{"a bad part", "", mct2, badPart, 400, `image 2 ("f1.png") is not a PNG or JPEG image`},
		{"multipart without boundary", "", "multipart/form-data", []byte("x"), 400, "without a boundary"},
		{"multipart with no parts", "", "multipart/form-data; boundary=zz", []byte("--zz--\r\n"), 400, "no images"},
		{"JSON not JSON", "", "application/json", []byte("{"), 400, "JSON body"},
		{"JSON unknown field", "", "application/json", []byte(`{"inputs": []}`), 400, `unknown field "inputs"`},
		{"JSON no instances", "", "application/json", []byte(`{"instances": []}`), 400, "no instances"},
		{"JSON two values", "", "application/json", []byte(`{"instances": [1]} {}`), 400, "more than one value"},
		{"JSON wrong height", "", "application/json", []byte(`{"instances": [` + img(27, 28) + `]}`), 400, "instance 0: want a (28, 28, 1) array of numbers: found 27 items where 28 belong (depth 1)"},
		{"JSON wrong channels", "", "application/json", []byte(`{"instances": [` + strings.ReplaceAll(img(28, 28), "[0.5]", "[0.5,0.5,0.5]") + `]}`), 400, "found 3 items where 1 belong (depth 3)"},
		{"JSON flat vector", "", "application/json", []byte(`{"instances": [[1,2,3]]}`), 400, "found 3 items where 28 belong"},
		{"JSON string value", "", "application/json", []byte(`{"instances": [` + strings.Replace(img(28, 28), "[0.5]", `["x"]`, 1) + `]}`), 400, "where a number belongs"},
		{"JSON value beyond float32", "", "application/json", []byte(`{"instances": [` + strings.Replace(img(28, 28), "[0.5]", `[1e300]`, 1) + `]}`), 400, "outside float32's range"},
		{"JSON too many instances", "", "application/json", []byte(`{"instances": [1,2,3,4,5]}`), 413, "5 instances in one request; the limit is 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" || strings.HasPrefix(path, "?") {
				path = "/v1/models/fashion-cnn/predict" + path
			}
			req, _ := http.NewRequest("POST", f.ts.URL+path, bytes.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var a answer
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatalf("%d, body not JSON: %q", resp.StatusCode, raw)
			}
			if resp.StatusCode != tc.code || !strings.Contains(a.Error, tc.want) || strings.ContainsAny(a.Error, "\n\r") || a.Error == "" {
				t.Errorf("%d %q; want %d and an error line containing %q", resp.StatusCode, a.Error, tc.code, tc.want)
			}
		})
	}
	_ = url
	if code, a := post(t, url, "image/png", good); code != 200 {
		t.Fatalf("the service no longer answers: %d %s", code, a.Error)
	}
}

// Clients that send slowly or give up halfway get 408 or are dropped; the service goes on.
func TestSlowAndAbortedUploads(t *testing.T) {
	f := newFixture(t, Config{Timeout: 400 * time.Millisecond})
	addr := strings.TrimPrefix(f.ts.URL, "http://")
	good := f.pngOf(t, 0)
	header := func(n int) string {
		return fmt.Sprintf("POST /v1/models/fashion-cnn/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n", n)
	}
	// Slow: half the body, then silence past the time limit.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, header(len(good)))
	c.Write(good[:len(good)/2])
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, _ := io.ReadAll(c)
	c.Close()
	if !strings.HasPrefix(string(reply), "HTTP/1.1 408") || !strings.Contains(string(reply), "did not arrive within 400ms") {
		t.Errorf("slow client got %q", reply)
	}
	// Aborted: half the body, then the connection closes.
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, header(len(good)))
		c.Write(good[:len(good)/3])
		c.Close()
	}
	// Headers that never end.
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "POST /v1/models/fashion-cnn/predict HTTP/1.1\r\nHost: x\r\n")
	c.Close()
	if code, a := post(t, f.ts.URL+"/v1/models/fashion-cnn/predict", "image/png", good); code != 200 {
		t.Fatalf("after the bad clients: %d %s", code, a.Error)
	}
}

// Many clients at once: every answer is the library's for its image, and the batcher
// gathered requests into batches of more than one image.
func TestConcurrentClients(t *testing.T) {
	f := newFixture(t, Config{MaxWait: 5 * time.Millisecond, MaxBatch: 16})
	url := f.ts.URL + "/v1/models/fashion-cnn/predict"
	const clients, requests, images = 16, 15, 8
	pngs := make([][]byte, images)
	want := make([][]float32, images)
	for i := range pngs {
		pngs[i] = f.pngOf(t, i)
		want[i] = f.want(t, i)
	}
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < requests; r++ {
				i := (c*3 + r) % images
				code, a := post(t, url, "image/png", pngs[i])
				if code != 200 || len(a.Predictions) != 1 {
					t.Errorf("client %d request %d: %d %s", c, r, code, a.Error)
					return
				}
				if !sameProbs(a.Predictions[0].Probabilities, want[i]) {
					t.Errorf("client %d request %d: image %d: %v; the library says %v", c, r, i, a.Predictions[0].Probabilities, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	resp, err := http.Get(f.ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sum, count float64
	for _, l := range strings.Split(string(body), "\n") {
		fmt.Sscanf(l, `convgraph_batch_size_sum{model="fashion-cnn"} %g`, &sum)
		fmt.Sscanf(l, `convgraph_batch_size_count{model="fashion-cnn"} %g`, &count)
	}
	if sum != clients*requests {
		t.Errorf("%v images in batches; want %d", sum, clients*requests)
	}
	t.Logf("%v requests in %v batches", sum, count)
	if count >= sum {
		t.Errorf("no request was batched with another: %v batches for %v images", count, sum)
	}
}

// Shutdown: /readyz turns 503 and a request in flight still gets its answer.
func TestGracefulShutdown(t *testing.T) {
	m, _, err := zoo.Pretrained("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	pred, err := nn.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New([]Model{{Name: "m", Predictor: pred}}, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// A slow model keeps the request in flight while shutdown starts.
	srv.models["m"].pred = slowPredictor{srv.models["m"].pred, 600 * time.Millisecond}
	ctx, cancel := contextWithCancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, "127.0.0.1:0", 5*time.Second, func(a string) { addrc <- a }) }()
	addr := <-addrc
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	var b bytes.Buffer
	png.Encode(&b, img)
	got := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/v1/models/m/predict", "image/png", bytes.NewReader(b.Bytes()))
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond) // the request's batch is computing
	cancel()
	time.Sleep(50 * time.Millisecond)
	if code := <-got; code != 200 {
		t.Errorf("the request in flight got %d", code)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the service still accepts connections after shutdown")
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 {
		t.Errorf("/readyz after shutdown: %d", rec.Code)
	}
}

func TestNewChecksItsModels(t *testing.T) {
	m, err := zoo.New("fashion-cnn")
	if err != nil {
		t.Fatal(err)
	}
	pred, err := nn.NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := nn.NewPredictor(m, nn.OutputLayer("conv2d"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		models []Model
		cfg    Config
		want   string
	}{
		{nil, Config{}, "no models"},
		{[]Model{{Name: "a b", Predictor: pred}}, Config{}, `model name "a b"`},
		{[]Model{{Name: "a", Predictor: pred}, {Name: "a", Predictor: pred}}, Config{}, `model "a" given twice`},
		{[]Model{{Name: "a"}}, Config{}, "has no predictor"},
		{[]Model{{Name: "a", Predictor: maps}}, Config{}, "want one probability per class"},
		{[]Model{{Name: "a", Predictor: pred, Classes: []string{"x"}}}, Config{}, "10 classes but 1 class names"},
		{[]Model{{Name: "a", Predictor: pred}}, Config{MaxBatch: -1}, "MaxBatch must be positive"},
	} {
		if _, err := New(tc.models, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New: %v; want %q", err, tc.want)
		}
	}
}

func jpegEncode(w io.Writer, img image.Image) error { return jpeg.Encode(w, img, nil) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// slowPredictor delays every run: a request that stays in flight, or a worker that stays
// busy, for as long as a test needs.
type slowPredictor struct {
	predictor
	delay time.Duration
}

func (p slowPredictor) Predict(x tensor.Tensor) (*tensor.Dense, error) {
	time.Sleep(p.delay)
	return p.predictor.Predict(x)
}
