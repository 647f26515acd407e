package nn

import (
	"fmt"
	"image"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/preprocess"
)

// Preprocessing is how raw images become the model's input ([preprocess.Config],
// completed for the model's first input): what [Model.SetPreprocessing] set, else the
// default (pixels scaled by 1/255, images of another size fitted with their aspect
// ratio kept, an unknown training background). It travels in the model's [Spec], so
// checkpoints, JSON specs and exported ONNX files carry it.
func (m *Model) Preprocessing() preprocess.Config {
	m.mu.Lock()
	pre := m.pre
	m.mu.Unlock()
	if pre != nil {
		return *pre
	}
	c, _ := preprocess.Config{}.ForInput(m.nodes[0].out) // the default always completes
	return c
}

// SetPreprocessing records how raw images become the model's input, completed for its
// input shape ([preprocess.Config.ForInput]); an invalid config is an error that names
// the field and leaves the model unchanged. Like any change of the model, it must not
// overlap a prediction.
func (m *Model) SetPreprocessing(c preprocess.Config) error {
	c, err := c.ForInput(m.nodes[0].out)
	if err != nil {
		return errors.Wrapf(err, "nn: model %q", m.name)
	}
	m.mu.Lock()
	m.pre = &c
	m.mu.Unlock()
	return nil
}

// HasPreprocessing says whether the model's preprocessing was set (by
// [Model.SetPreprocessing] or its spec) rather than defaulted.
func (m *Model) HasPreprocessing() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pre != nil
}

// PredictImages runs the model on images preprocessed by [Model.Preprocessing] (resized,
// converted, inverted when their background is the opposite of the training images',
// scaled) and returns [len(imgs), OutputShape()...] results, as [Model.Predict] does,
// with a report per image of what its preprocessing did. An image that cannot be read is
// an error naming it (imgs[i] is "image i+1").
func (m *Model) PredictImages(imgs []image.Image, opts ...preprocess.Option) (*tensor.Dense, []preprocess.Report, error) {
	return predictRaw(m.pooled(), m.Preprocessing(), len(imgs), func(pre preprocess.Config, i int) ([]float32, preprocess.Report, error) {
		return pre.Image(imgs[i], fmt.Sprintf("image %d", i+1), opts...)
	})
}

// PredictFiles is [Model.PredictImages] for PNG or JPEG files: each file is checked
// before it is read and its header before a pixel is decoded
// ([preprocess.Config.File]); errors name the file.
func (m *Model) PredictFiles(paths []string, opts ...preprocess.Option) (*tensor.Dense, []preprocess.Report, error) {
	return predictRaw(m.pooled(), m.Preprocessing(), len(paths), func(pre preprocess.Config, i int) ([]float32, preprocess.Report, error) {
		return pre.File(paths[i], opts...)
	})
}

// PredictEncoded is [Model.PredictImages] for PNG or JPEG images held in memory
// (encoded[i] is named "image i+1" in errors), each header checked before a pixel is
// decoded ([preprocess.Config.Decode]).
func (m *Model) PredictEncoded(encoded [][]byte, opts ...preprocess.Option) (*tensor.Dense, []preprocess.Report, error) {
	return predictRaw(m.pooled(), m.Preprocessing(), len(encoded), func(pre preprocess.Config, i int) ([]float32, preprocess.Report, error) {
		return pre.Decode(encoded[i], fmt.Sprintf("image %d", i+1), opts...)
	})
}

// Preprocessing is the snapshot's [Model.Preprocessing].
func (p *Predictor) Preprocessing() preprocess.Config { return p.m.Preprocessing() }

// PredictImages is [Model.PredictImages] on the snapshot; safe for concurrent use.
func (p *Predictor) PredictImages(imgs []image.Image, opts ...preprocess.Option) (*tensor.Dense, []preprocess.Report, error) {
	return predictRaw(p.pool, p.m.Preprocessing(), len(imgs), func(pre preprocess.Config, i int) ([]float32, preprocess.Report, error) {
		return pre.Image(imgs[i], fmt.Sprintf("image %d", i+1), opts...)
	})
}

// PredictFiles is [Model.PredictFiles] on the snapshot; safe for concurrent use.
func (p *Predictor) PredictFiles(paths []string, opts ...preprocess.Option) (*tensor.Dense, []preprocess.Report, error) {
	return predictRaw(p.pool, p.m.Preprocessing(), len(paths), func(pre preprocess.Config, i int) ([]float32, preprocess.Report, error) {
		return pre.File(paths[i], opts...)
	})
}

// PredictEncoded is [Model.PredictEncoded] on the snapshot; safe for concurrent use.
func (p *Predictor) PredictEncoded(encoded [][]byte, opts ...preprocess.Option) (*tensor.Dense, []preprocess.Report, error) {
	return predictRaw(p.pool, p.m.Preprocessing(), len(encoded), func(pre preprocess.Config, i int) ([]float32, preprocess.Report, error) {
		return pre.Decode(encoded[i], fmt.Sprintf("image %d", i+1), opts...)
	})
}

func predictRaw(pool *graphPool, pre preprocess.Config, n int, read func(preprocess.Config, int) ([]float32, preprocess.Report, error)) (*tensor.Dense, []preprocess.Report, error) {
	m := pool.m
	if !pre.IsImage() {
		return nil, nil, errors.Errorf("nn: model %q takes input of shape (%s), not images", m.name, shapeList(m.nodes[0].out))
	}
	if n == 0 {
		return nil, nil, errors.Errorf("nn: model %q: predict: no images", m.name)
	}
	per := pre.Height * pre.Width * pre.Channels
	x := make([]float32, 0, n*per)
	reps := make([]preprocess.Report, n)
	for i := range n {
		xi, rep, err := read(pre, i)
		if err != nil {
			return nil, nil, err
		}
		x = append(x, xi...)
		reps[i] = rep
	}
	out, err := pool.predict(tensor.New(tensor.WithShape(n, pre.Height, pre.Width, pre.Channels), tensor.WithBacking(x)))
	if err != nil {
		return nil, nil, err
	}
	return out, reps, nil
}
