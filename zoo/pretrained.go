package zoo

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"sort"

	"github.com/pkg/errors"

	"github.com/convgraph/convgraph/checkpoint"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/preprocess"
)

//go:embed weights/*.safetensors
var weightsFS embed.FS

// weights describes one shipped weights file: its checksum and what it measured.
type weights struct {
	sha256 string
	// accuracy on the full Fashion-MNIST test set (10,000 images).
	accuracy float64
}

// shipped lists the pretrained weights in zoo/weights, made by tools/zooweights/recipe.sh.
var shipped = map[string]weights{
	"fashion-cnn":     {sha256: "1b8fb8cb9c590e79109d8ffe5e317fca27473950137afcbf2ea7c5d2ccaed858", accuracy: 0.9208},
	"alexnet-small":   {sha256: "57f6922dba25e603f395efb08dfa8b2b855106ba2a13b55c0a14df50cf90ee14", accuracy: 0.9253},
	"resnet-small":    {sha256: "5a3dfb6ca739aad86533b97fd4fbf76176860bfb920dd5ecc60c99961c57f493", accuracy: 0.9416},
	"mobilenet-small": {sha256: "8960104e9c4d49b49622a1741cbcd50636766b47c72ffeaf2b57582a67be4c57", accuracy: 0.9230},
}

// PretrainedAccuracy returns the Fashion-MNIST test accuracy of a model's shipped
// weights, or false if the model has none.
func PretrainedAccuracy(name string) (float64, bool) {
	w, ok := shipped[name]
	return w.accuracy, ok
}

// PretrainedNames lists the models that ship weights, sorted.
func PretrainedNames() []string {
	var out []string
	for n := range shipped {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// weightsFile returns a model's shipped weights after checking their SHA-256.
func weightsFile(name string) ([]byte, error) {
	w, ok := shipped[name]
	if !ok {
		return nil, errors.Errorf("zoo: model %q has no pretrained weights (models with weights: %v)", name, PretrainedNames())
	}
	b, err := weightsFS.ReadFile("weights/" + name + ".safetensors")
	if err != nil {
		return nil, errors.Wrapf(err, "zoo: pretrained weights of %q", name)
	}
	return b, verify(name, b, w.sha256)
}

func verify(name string, b []byte, want string) error {
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want {
		return errors.Errorf("zoo: pretrained weights of %q are corrupt: SHA-256 %s, want %s", name, got, want)
	}
	return nil
}

// Pretrained builds the named model with opts and loads its shipped weights (trained on
// Fashion-MNIST's 28x28 gray images), checking their SHA-256 first. Parameters whose
// shape the options changed keep their fresh initialization and are listed in the
// report's Skipped with the reason (the head, for another number of classes; a Dense
// after Flatten, for another image size); parameters the model no longer has (the head,
// without IncludeHead) are listed in Unused. The first convolution of a model for RGB (or
// any other number of channels) is adapted by timm's rule and listed in Adapted: its
// kernel repeats over the new input channels, scaled by 1/channels, so a gray image fed
// as three equal channels gives the gray model's prediction. The model's preprocessing
// records the weights' dark background (light objects on black) and trims the margins
// of images of other sizes, as Fashion-MNIST's images were made.
func Pretrained(name string, opts ...Option) (*nn.Model, *checkpoint.Report, error) {
	b, err := weightsFile(name)
	if err != nil {
		return nil, nil, err
	}
	m, err := New(name, opts...)
	if err != nil {
		return nil, nil, err
	}
	rep, err := checkpoint.LoadWeightsPartialBytes("zoo/weights/"+name+".safetensors", b, m)
	if err != nil {
		return nil, nil, err
	}
	if len(rep.Skipped) > 0 {
		shipped, err := New(name)
		if err != nil {
			return nil, nil, err
		}
		if _, err := checkpoint.LoadWeightsPartialBytes("zoo/weights/"+name+".safetensors", b, shipped); err != nil {
			return nil, nil, err
		}
		adapt(m, shipped, rep)
	}
	if err := m.SetPreprocessing(preprocess.Config{Background: preprocess.Dark, Trim: true}); err != nil {
		return nil, nil, err
	}
	return m, rep, nil
}
