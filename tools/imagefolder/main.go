// Command imagefolder writes images of the bundled MNIST or Fashion-MNIST sample as an image
// folder (root/<class>/*.png), the layout `convgraph finetune --dataset DIR` and
// [data.ImageFolder] read: the small folder of the fine-tuning demo in
// docs/transfer-learning.md.
//
// Usage, from the repository root:
//
//	go run ./tools/imagefolder -out DIR [-sample mnist|fashion-mnist] [-classes 0,1,7] [-per-class 60] [-format png|jpeg] [-seed 1]
//
// The images are a seeded class-balanced draw from the sample's training and test images of
// the chosen classes (all classes when -classes is empty). DIR must not exist or be empty.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/convgraph/convgraph/data"
)

func main() {
	out := flag.String("out", "", "folder to write (must not exist or be empty)")
	sample := flag.String("sample", data.MNIST, "bundled sample to draw from: mnist or fashion-mnist")
	classes := flag.String("classes", "", "comma-separated class names to keep (default: all)")
	perClass := flag.Int("per-class", 60, "images per class")
	format := flag.String("format", "png", "png or jpeg")
	seed := flag.Uint64("seed", 1, "seed of the draw")
	flag.Parse()
	if err := run(*out, *sample, *classes, *perClass, *format, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "imagefolder:", err)
		os.Exit(1)
	}
}

func run(out, sample, classes string, perClass int, format string, seed uint64) error {
	if out == "" {
		return fmt.Errorf("-out DIR is required")
	}
	if perClass <= 0 {
		return fmt.Errorf("-per-class %d must be positive", perClass)
	}
	split, err := data.Sample(sample)
	if err != nil {
		return err
	}
	names := split.Train.Classes
	keep := make([]bool, len(names))
	for _, c := range strings.Split(classes, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		y := slices.Index(names, c)
		if y < 0 {
			return fmt.Errorf("-classes: %q is not a class of %s (%s)", c, sample, strings.Join(names, ", "))
		}
		keep[y] = true
	}
	if !slices.Contains(keep, true) {
		for y := range keep {
			keep[y] = true
		}
	}
	// The sample's training and test images of the kept classes, in one set.
	var pixels []uint8
	var labels []int
	n := 0
	for _, d := range []*data.Dataset{split.Train, split.Test} {
		for i := range d.Len() {
			if keep[d.Label(i)] {
				pixels = append(pixels, d.Image(i)...)
				labels = append(labels, d.Label(i))
			}
		}
	}
	for _, k := range keep {
		if k {
			n++
		}
	}
	d, err := data.New(pixels, labels, split.Train.Height(), split.Train.Width(), split.Train.Channels(), names)
	if err != nil {
		return err
	}
	d = d.Take(n*perClass, seed)
	if err := d.WriteImageFolder(out, format); err != nil {
		return err
	}
	fmt.Printf("wrote %d images of %d classes to %s\n", d.Len(), n, out)
	return nil
}
