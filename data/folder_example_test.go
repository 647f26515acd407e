package data_test

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"github.com/convgraph/convgraph/data"
)

func ExampleImageFolder() {
	// root/<class>/<image>: two classes of RGB images of any size.
	root, err := os.MkdirTemp("", "convgraph-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	for class, c := range map[string]color.RGBA{"red": {255, 0, 0, 255}, "white": {255, 255, 255, 255}} {
		for i, size := range []int{40, 64, 100} {
			img := image.NewRGBA(image.Rect(0, 0, size, size))
			for p := range size * size {
				img.SetRGBA(p%size, p/size, c)
			}
			if err := os.MkdirAll(filepath.Join(root, class), 0o755); err != nil {
				log.Fatal(err)
			}
			f, err := os.Create(filepath.Join(root, class, fmt.Sprintf("%d.png", i)))
			if err != nil {
				log.Fatal(err)
			}
			png.Encode(f, img)
			f.Close()
		}
	}

	// Read them as 28×28 gray, like Fashion-MNIST.
	d, err := data.ImageFolder(root, 28, 28, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Len(), d.Classes, d.Labels())
	fmt.Println(d.Height(), d.Width(), d.Channels(), d.Image(0)[0], d.Image(5)[0])
	// Output:
	// 6 [red white] [0 0 0 1 1 1]
	// 28 28 1 76 255
}

func ExampleDataset_WriteImageFolder() {
	split, err := data.Sample(data.MNIST)
	if err != nil {
		log.Fatal(err)
	}
	root, err := os.MkdirTemp("", "convgraph-digits")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	// 30 digits as PNG files under root/<digit>/, ready for ImageFolder or an image viewer.
	if err := split.Test.Take(30, 1).WriteImageFolder(root, "png"); err != nil {
		log.Fatal(err)
	}
	d, err := data.ImageFolder(root, 28, 28, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Len(), d.Classes, d.ClassCounts())
	// Output:
	// 30 [0 1 2 3 4 5 6 7 8 9] [3 3 3 3 3 3 3 3 3 3]
}
