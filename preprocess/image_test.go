package preprocess

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// product draws a w x h photo-like image: a filled rectangle of fg covering the middle
// half of each side on a bg background.
func product(w, h int, bg, fg color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := bg
			if x >= w/4 && x < w-w/4 && y >= h/4 && y < h-h/4 {
				c = fg
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func gray28(t *testing.T) Config {
	t.Helper()
	c, err := Config{Background: Dark}.ForInput([]int{28, 28, 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func encode(t *testing.T, img image.Image, format string) []byte {
	t.Helper()
	b := encodeBytes(img, format)
	if b == nil {
		t.Fatalf("cannot encode a %s", format)
	}
	return b
}

func encodeBytes(img image.Image, format string) []byte {
	var b bytes.Buffer
	var err error
	if format == "jpeg" {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		return nil
	}
	return b.Bytes()
}

func TestForInputDefaultsAndChecks(t *testing.T) {
	c := gray28(t)
	if c.Scale != 1.0/255 || c.Layout != "NHWC" || c.Height != 28 || c.Width != 28 || c.Channels != 1 || c.Resize != Fit {
		t.Errorf("completed %+v", c)
	}
	v, err := Config{}.ForInput([]int{10})
	if err != nil || v.Layout != "NC" || v.IsImage() {
		t.Errorf("vector config %+v %v", v, err)
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Channels: 3}, "channels 3, but the model's input is 28x28x1"},
		{Config{Resize: "crop"}, `resize "crop"`},
		{Config{Background: "grey"}, `background "grey"`},
		{Config{Mean: []float64{0.5}}, "mean and std go together"},
		{Config{Mean: []float64{0.5}, Std: []float64{0}}, "std positive"},
		{Config{Mean: []float64{0.5, 0.5}, Std: []float64{1, 1}}, "2 means and 2 stds for 1 channels"},
		{Config{Scale: math.Inf(1)}, "must be finite"},
	} {
		if _, err := tc.c.ForInput([]int{28, 28, 1}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.c, err, tc.want)
		}
	}
}

// A 28x28 gray image on black is read exactly as the data pipeline reads it: its bytes
// times float32(1/255), no inversion.
func TestImageMatchesTheDataPipeline(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range img.Pix {
		if x, y := i%28, i/28; x > 5 && x < 22 && y > 3 && y < 25 {
			img.Pix[i] = uint8(100 + i%150)
		}
	}
	x, rep, err := gray28(t).Image(img, "item")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Background != Dark || rep.Mismatch || rep.Inverted || rep.Width != 28 {
		t.Errorf("report %+v", rep)
	}
	for i, p := range img.Pix {
		if want := float32(1.0/255) * float32(p); x[i] != want {
			t.Fatalf("value %d: %v, want %v", i, x[i], want)
		}
	}
}

// A dark object on white (a product photo) is found to have a light background and
// inverted by default; WithInvert(InvertNo) keeps it but still reports the mismatch.
func TestLightBackgroundIsInverted(t *testing.T) {
	photo := product(300, 200, color.White, color.RGBA{40, 30, 20, 255})
	for _, format := range []string{"png", "jpeg"} {
		x, rep, err := gray28(t).Decode(encode(t, photo, format), "bag."+format)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Background != Light || !rep.Mismatch || !rep.Inverted || rep.Width != 300 || rep.Height != 200 {
			t.Errorf("%s: report %+v", format, rep)
		}
		if !strings.Contains(rep.Notice(Dark), "light background, but the model was trained on dark backgrounds: inverted") {
			t.Errorf("notice %q", rep.Notice(Dark))
		}
		// Inverted: the corner (white) is now black, the object light.
		if x[0] > 0.02 || x[14*28+14] < 0.7 {
			t.Errorf("%s: corner %v, centre %v", format, x[0], x[14*28+14])
		}
		kept, rep, err := gray28(t).Decode(encode(t, photo, format), "bag", WithInvert(InvertNo))
		if err != nil || rep.Inverted || !rep.Mismatch || kept[0] < 0.98 {
			t.Errorf("%s: InvertNo: corner %v, report %+v, %v", format, kept[0], rep, err)
		}
		if !strings.Contains(rep.Notice(Dark), "not inverted, so the prediction may be wrong") {
			t.Errorf("notice %q", rep.Notice(Dark))
		}
	}
	// A model whose background is unknown inverts nothing by itself.
	c := gray28(t)
	c.Background = Unknown
	if _, rep, _ := c.Image(photo, "bag"); rep.Inverted || rep.Mismatch || rep.Background != Light {
		t.Errorf("unknown training background: %+v", rep)
	}
	// InvertYes inverts even a matching image.
	dark := product(28, 28, color.Black, color.White)
	if x, rep, _ := gray28(t).Image(dark, "shirt", WithInvert(InvertYes)); !rep.Inverted || x[0] != 1 {
		t.Errorf("InvertYes: %v %+v", x[0], rep)
	}
}

// Fit keeps the aspect ratio: a wide image fills the width and is padded above and below
// with its background, a tall one the other way round; Stretch fills both.
func TestFitKeepsTheAspectRatio(t *testing.T) {
	c := gray28(t)
	wide := product(280, 70, color.Black, color.White) // 4:1 -> 28x7 centred, rows 10-16
	px := c.Pixels(wide)
	rowsWithObject := 0
	for y := range 28 {
		if px[y*28+14] > 128 {
			rowsWithObject++
			if y < 10 || y > 17 {
				t.Errorf("wide: object on row %d, outside the fitted band", y)
			}
		}
	}
	if rowsWithObject < 3 || rowsWithObject > 5 {
		t.Errorf("wide: object on %d rows, want about 7/2", rowsWithObject)
	}
	tall := product(70, 280, color.Black, color.White)
	px = c.Pixels(tall)
	cols := 0
	for x := range 28 {
		if px[14*28+x] > 128 {
			cols++
		}
	}
	if cols < 3 || cols > 5 {
		t.Errorf("tall: object on %d columns, want about 7/2", cols)
	}
	// Padding takes the background colour: a white photo's padding is white.
	wideLight := product(280, 70, color.White, color.Black)
	if px := c.Pixels(wideLight); px[0] != 255 || px[27*28+27] != 255 {
		t.Errorf("light padding %d %d, want 255", px[0], px[27*28+27])
	}
	s := c
	s.Resize = Stretch
	px = s.Pixels(wide)
	rowsWithObject = 0
	for y := range 28 {
		if px[y*28+14] > 128 {
			rowsWithObject++
		}
	}
	if rowsWithObject < 13 || rowsWithObject > 15 {
		t.Errorf("stretch: object on %d rows, want about 14", rowsWithObject)
	}
}

func TestRGBAndNormalisation(t *testing.T) {
	c, err := Config{Mean: []float64{0.5, 0.4, 0.3}, Std: []float64{0.2, 0.25, 0.5}}.ForInput([]int{4, 4, 3})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewUniform(color.RGBA{255, 0, 51, 255})
	x, _, err := c.Image(&rectImage{img, image.Rect(0, 0, 4, 4)}, "u")
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{(1 - 0.5) / 0.2, (0 - 0.4) / 0.25, (0.2 - 0.3) / 0.5}
	for i := range 3 {
		if math.Abs(float64(x[i]-want[i])) > 1e-6 {
			t.Errorf("channel %d: %v, want %v", i, x[i], want[i])
		}
	}
}

type rectImage struct {
	image.Image
	r image.Rectangle
}

func (r *rectImage) Bounds() image.Rectangle { return r.r }

func TestBadInputsNameTheImage(t *testing.T) {
	dir := t.TempDir()
	c := gray28(t)
	notImage := filepath.Join(dir, "notes.png")
	os.WriteFile(notImage, []byte("hello"), 0o644)
	// A header claiming 100000x100000 pixels is refused before decoding.
	var hdr bytes.Buffer
	png.Encode(&hdr, image.NewGray(image.Rect(0, 0, 1, 1)))
	huge := hdr.Bytes()
	huge[16], huge[17], huge[18], huge[19] = 0, 1, 0x86, 0xa0 // width 100000
	huge[20], huge[21], huge[22], huge[23] = 0, 1, 0x86, 0xa0 // height 100000
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	for _, tc := range []struct {
		err  func() error
		want string
	}{
		{func() error { _, _, err := c.File(filepath.Join(dir, "none.png")); return err }, "none.png"},
		{func() error { _, _, err := c.File(notImage); return err }, "notes.png: cannot decode image"},
		{func() error { _, _, err := c.File(dir); return err }, "is a directory"},
		{func() error { _, _, err := c.Decode(huge, "huge.png"); return err }, "huge.png: image of 100000x100000 pixels is too large"},
		{func() error {
			_, _, err := c.Decode(encode(t, product(64, 64, color.Black, color.White), "png"), "big.png", MaxPixels(1000))
			return err
		}, "big.png: image of 64x64 pixels is too large (the limit is 1000 pixels)"},
		{func() error { _, _, err := c.Image(nil, "nil"); return err }, "nil: no image"},
		{func() error {
			_, _, err := c.Image(product(4, 4, color.Black, color.White), "x", WithInvert("maybe"))
			return err
		}, `invert "maybe"`},
		{func() error { _, _, err := (Config{Layout: "NC"}).Decode(nil, "v.png"); return err }, "v.png: the model takes vector input"},
	} {
		if err := tc.err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestBackgroundOf(t *testing.T) {
	px := make([]uint8, 2*5*5)
	if BackgroundOf(px, 2, 5, 5, 1) != Dark {
		t.Error("black images are not dark")
	}
	for i := range px {
		px[i] = 250
	}
	if BackgroundOf(px, 2, 5, 5, 1) != Light {
		t.Error("white images are not light")
	}
	for i := range px {
		px[i] = 128
	}
	if BackgroundOf(px, 2, 5, 5, 1) != Unknown || BackgroundOf(nil, 1, 5, 5, 1) != Unknown {
		t.Error("grey images have a background")
	}
}

// Trim crops the background margins before fitting, so a small object in a large photo
// fills the input as Fashion-MNIST's items do; an image of the input size is not trimmed.
func TestTrim(t *testing.T) {
	c := gray28(t)
	c.Trim = true
	photo := image.NewGray(image.Rect(0, 0, 400, 300))
	for y := 100; y < 200; y++ { // a 100x100 light square
		for x := 150; x < 250; x++ {
			photo.SetGray(x, y, color.Gray{Y: 200})
		}
	}
	px := c.Pixels(photo)
	if px[0] < 150 || px[27*28+27] < 150 || px[14*28+14] < 150 {
		t.Errorf("trimmed: corners %d %d, centre %d; want the square to fill the input", px[0], px[27*28+27], px[14*28+14])
	}
	c.Trim = false
	if px := c.Pixels(photo); px[0] != 0 || px[14*28+14] < 150 {
		t.Errorf("untrimmed: corner %d, centre %d", px[0], px[14*28+14])
	}
	c.Trim = true
	small := product(28, 28, color.Black, color.White)
	if px := c.Pixels(small); px[0] != 0 {
		t.Errorf("a 28x28 image was trimmed: corner %d", px[0])
	}
}

func TestString(t *testing.T) {
	c := gray28(t)
	c.Trim = true
	if got, want := c.String(), "28x28 gray, fit with trim, pixels / 255, dark background"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	rgb, _ := Config{Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.2, 0.2, 0.2}, Resize: Stretch}.ForInput([]int{32, 32, 3})
	if got, want := rgb.String(), "32x32 RGB, stretch, pixels / 255, then (v - mean [0.5 0.5 0.5]) / std [0.2 0.2 0.2] per channel, unknown background"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
