package serve

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/preprocess"
)

// An uploaded photo of a dark object on white goes through the model's preprocessing:
// fitted, inverted (the model was trained on dark backgrounds) and answered with a note,
// exactly as nn's PredictEncoded answers; ?invert=no keeps it, and says so.
func TestPhotoOnWhiteIsInvertedAndReported(t *testing.T) {
	f := newFixture(t, Config{})
	photo := image.NewGray(image.Rect(0, 0, 120, 80))
	for i := range photo.Pix {
		photo.Pix[i] = 255
	}
	for y := 20; y < 60; y++ {
		for x := 40; x < 80; x++ {
			photo.SetGray(x, y, color.Gray{Y: 20})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, photo)
	want, reps, err := f.pred.PredictEncoded([][]byte{b.Bytes()})
	if err != nil || !reps[0].Inverted {
		t.Fatalf("library: %v %+v", err, reps)
	}
	for _, tc := range []struct {
		query    string
		inverted bool
		note     string
	}{{"", true, "inverted the image"}, {"?invert=no", false, "not inverted"}} {
		resp, err := http.Post(f.ts.URL+"/v1/models/fashion-cnn/predict"+tc.query, "image/png", bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var a struct {
			Predictions []prediction `json:"predictions"`
		}
		if err := json.Unmarshal(raw, &a); err != nil || resp.StatusCode != 200 || len(a.Predictions) != 1 {
			t.Fatalf("%q: %d %s", tc.query, resp.StatusCode, raw)
		}
		p := a.Predictions[0]
		if p.Preprocessing == nil || p.Preprocessing.Inverted != tc.inverted || p.Preprocessing.Background != string(preprocess.Light) ||
			!strings.Contains(p.Preprocessing.Note, tc.note) {
			t.Errorf("%q: preprocessing %+v", tc.query, p.Preprocessing)
		}
		if tc.inverted && !sameProbs(p.Probabilities, want.Float32s()) {
			t.Errorf("served %v, library %v", p.Probabilities, want.Float32s())
		}
	}
	code, a := post(t, f.ts.URL+"/v1/models/fashion-cnn/predict?invert=maybe", "image/png", b.Bytes())
	if code != http.StatusBadRequest || !strings.Contains(a.Error, `invert="maybe": want auto, yes or no`) {
		t.Errorf("bad invert: %d %q", code, a.Error)
	}
	// A Fashion-MNIST image (dark background) carries no note.
	_, a = post(t, f.ts.URL+"/v1/models/fashion-cnn/predict", "image/png", f.pngOf(t, 0))
	if len(a.Predictions) != 1 || !sameProbs(a.Predictions[0].Probabilities, f.want(t, 0)) {
		t.Errorf("sample image: %+v", a)
	}
}
