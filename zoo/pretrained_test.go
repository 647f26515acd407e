package zoo

import (
	"math"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/internal/testenv"
	"github.com/convgraph/convgraph/train"
)

func TestShippedWeightsLoad(t *testing.T) {
	for _, name := range PretrainedNames() {
		m, rep, err := Pretrained(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Skipped) != 0 || len(rep.Unused) != 0 || len(rep.Loaded) != len(m.Params()) {
			t.Errorf("%s: report %+v", name, rep)
		}
		// The bundled sample's test images come from the real test set: the shipped
		// weights must classify them about as well as the full set.
		s, err := data.Sample(data.FashionMNIST)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := train.Evaluate(m, s.Test, 250)
		if err != nil {
			t.Fatal(err)
		}
		acc, _ := PretrainedAccuracy(name)
		if ev.Accuracy < acc-0.04 {
			t.Errorf("%s: %.4f on the sample's test images; shipped weights measured %.4f", name, ev.Accuracy, acc)
		}
		t.Logf("%s: sample test accuracy %.4f (full test set %.4f)", name, ev.Accuracy, acc)
	}
}

// With the full Fashion-MNIST test set installed (CI installs Debian's
// dataset-fashion-mnist), every shipped model scores what zoo list and the docs claim.
func TestShippedAccuracyOnTheFullTestSet(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates every shipped model on 10,000 images")
	}
	split, err := data.Load(data.FashionMNIST, data.Offline())
	testenv.Require(t, err == nil, "full Fashion-MNIST not installed (Debian: dataset-fashion-mnist): %v", err)
	for _, name := range PretrainedNames() {
		m, _, err := Pretrained(name)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := train.Evaluate(m, split.Test, 250)
		if err != nil {
			t.Fatal(err)
		}
		// Another GEMM path may round a few borderline images the other way.
		if acc, _ := PretrainedAccuracy(name); math.Abs(ev.Accuracy-acc) > 0.0003 {
			t.Errorf("%s: %.4f on the full test set; the zoo claims %.4f", name, ev.Accuracy, acc)
		}
	}
}

func TestPretrainedForOtherClasses(t *testing.T) {
	m, rep, err := Pretrained("fashion-cnn", Classes(4))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 2 || rep.Skipped[0].Param != "dense_1/kernel" || m.OutputShape()[0] != 4 {
		t.Errorf("report %+v", rep)
	}
	if _, rep, err = Pretrained("fashion-cnn", IncludeHead(false)); err != nil || len(rep.Unused) != 2 {
		t.Errorf("headless: %v %+v", err, rep)
	}
}

func TestCorruptWeightsAreRefused(t *testing.T) {
	b, err := weightsFS.ReadFile("weights/fashion-cnn.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), b...)
	bad[len(bad)/2] ^= 1
	err = verify("fashion-cnn", bad, shipped["fashion-cnn"].sha256)
	if err == nil || !strings.Contains(err.Error(), `pretrained weights of "fashion-cnn" are corrupt`) {
		t.Fatalf("error %v", err)
	}
	if _, _, err := Pretrained("logreg"); err == nil || !strings.Contains(err.Error(), "no pretrained weights") {
		t.Errorf("error %v", err)
	}
}
