package nn_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/preprocess"
)

// A model predicts on raw images with the preprocessing stored with it: here a photo
// of a dark object on white, 60x40 pixels, for a model trained on light objects on black
// (as Fashion-MNIST's are). The photo is fitted into 28x28 with its aspect ratio kept,
// inverted, scaled by 1/255 and classified; the report says what was done.
func ExampleModel_PredictImages() {
	m, err := nn.Sequential("tiny",
		nn.Input(28, 28, 1),
		nn.Conv2D(4, 3, nn.Activation(nn.ReLU)),
		nn.GlobalAvgPool2D(),
		nn.Dense(3, nn.Activation(nn.Softmax)))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.SetPreprocessing(preprocess.Config{Background: preprocess.Dark}); err != nil {
		fmt.Println(err)
		return
	}
	photo := image.NewGray(image.Rect(0, 0, 60, 40))
	for i := range photo.Pix {
		photo.Pix[i] = 255 // white
	}
	for y := 10; y < 30; y++ {
		for x := 15; x < 45; x++ {
			photo.SetGray(x, y, color.Gray{Y: 30}) // the dark object
		}
	}
	probs, reports, err := m.PredictImages([]image.Image{photo})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(probs.Shape())
	fmt.Println(reports[0].Notice(m.Preprocessing().Background))
	pre := m.Preprocessing()
	fmt.Println(pre.Height, pre.Width, pre.Channels, pre.Resize, pre.Scale == 1.0/255)
	// Output:
	// (1, 3)
	// image 1: light background, but the model was trained on dark backgrounds: inverted the image
	// 28 28 1 fit true
}
