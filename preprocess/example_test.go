package preprocess_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/convgraph/convgraph/preprocess"
)

// A model's preprocessing applied to a raw image: a 90x60 photo of a dark object on
// white for a 28x28 gray model trained on light objects on black (Fashion-MNIST).
func ExampleConfig_Image() {
	c, err := preprocess.Config{Background: preprocess.Dark}.ForInput([]int{28, 28, 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	photo := image.NewRGBA(image.Rect(0, 0, 90, 60))
	for y := range 60 {
		for x := range 90 {
			photo.Set(x, y, color.White)
			if x >= 30 && x < 60 && y >= 15 && y < 45 {
				photo.Set(x, y, color.RGBA{60, 40, 20, 255})
			}
		}
	}
	x, rep, err := c.Image(photo, "bag.jpg")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(x), c.Resize, c.Scale == 1.0/255)
	fmt.Println(rep.Width, rep.Height, rep.Background, rep.Inverted)
	fmt.Printf("corner %.2f, centre %.2f\n", x[0], x[14*28+14])
	fmt.Println(rep.Notice(c.Background))
	// Output:
	// 784 fit true
	// 90 60 light true
	// corner 0.00, centre 0.83
	// bag.jpg: light background, but the model was trained on dark backgrounds: inverted the image
}
