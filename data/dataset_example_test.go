package data_test

import (
	"fmt"
	"log"

	"github.com/convgraph/convgraph/data"
)

func ExampleNew() {
	// Two 1×2 gray images.
	d, err := data.New([]uint8{0, 255, 128, 64}, []int{1, 0}, 1, 2, 1, []string{"off", "on"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Len(), d.Image(1), d.Classes[d.Label(0)])
	// Output: 2 [128 64] on
}

func ExampleDataset_Batches() {
	split, err := data.Sample(data.FashionMNIST)
	if err != nil {
		log.Fatal(err)
	}
	train := split.Train
	it := train.Batches(32, data.Shuffle(), data.Seed(1), data.RandomFlip(), data.RandomShift(2))
	fmt.Println("batches per epoch:", it.Len())
	for epoch := range 2 {
		n := 0
		var last *data.Batch
		for it.Next() {
			last = it.Batch() // last.X is NHWC float32 in [0, 1], last.Labels the classes
			n += last.Size
		}
		fmt.Printf("epoch %d: %d images, last batch of %d (%d floats)\n", epoch, n, last.Size, len(last.X))
		it.Reset()
	}
	// Output:
	// batches per epoch: 63
	// epoch 0: 2000 images, last batch of 16 (12544 floats)
	// epoch 1: 2000 images, last batch of 16 (12544 floats)
}

func ExampleDataset_Batches_dropLast() {
	split, err := data.Sample(data.MNIST)
	if err != nil {
		log.Fatal(err)
	}
	it := split.Test.Batches(64, data.DropLast())
	batches := 0
	for it.Next() {
		batches++
	}
	fmt.Println(batches, it.Len(), "full batches of 64 from", split.Test.Len(), "images")
	// Output: 7 7 full batches of 64 from 500 images
}

func ExampleDataset_Take() {
	split, err := data.Sample(data.FashionMNIST)
	if err != nil {
		log.Fatal(err)
	}
	// What --train-limit 25 does: a class-balanced, seeded subset.
	small := split.Train.Take(25, 42)
	fmt.Println(small.Len(), small.ClassCounts())
	// Output: 25 [2 2 3 3 2 2 3 2 3 3]
}

func ExampleDataset_ValidationSplit() {
	split, err := data.Sample(data.FashionMNIST)
	if err != nil {
		log.Fatal(err)
	}
	train, val, err := split.Train.ValidationSplit(0.1, 7)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train)
	fmt.Println(val)
	fmt.Println(val.ClassCounts())
	// Output:
	// fashion-mnist/train: 1800 images 28x28x1, 10 classes (SAMPLE)
	// fashion-mnist/validation: 200 images 28x28x1, 10 classes (SAMPLE)
	// [20 20 20 20 20 20 20 20 20 20]
}

func ExampleNormalization() {
	pixels := []uint8{0, 51, 255}
	out := make([]float32, 3)
	data.Normalization{}.Apply(out, pixels, 1) // the default: p/255
	fmt.Printf("%.3f\n", out)
	data.Normalization{Scale: 2.0 / 255, Offset: -1}.Apply(out, pixels, 1) // to [-1, 1]
	fmt.Printf("%.3f\n", out)
	// Output:
	// [0.000 0.200 1.000]
	// [-1.000 -0.600 1.000]
}
