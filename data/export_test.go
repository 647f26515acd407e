package data_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/data"
)

func TestWriteImageFolderRoundTrip(t *testing.T) {
	split, err := data.Sample(data.FashionMNIST)
	if err != nil {
		t.Fatal(err)
	}
	d := split.Test.Take(40, 1)
	root := filepath.Join(t.TempDir(), "fashion")
	if err := d.WriteImageFolder(root, "png"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "T-shirt_top")); err != nil {
		t.Errorf("the class T-shirt/top: %v", err)
	}
	back, err := data.ImageFolder(root, 28, 28, 1)
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != d.Len() {
		t.Fatalf("read back %d images, wrote %d", back.Len(), d.Len())
	}
	// ImageFolder sorts classes by folder name and images by file name (the index):
	// match each written image with its read-back copy by class and order.
	for y, name := range d.Classes {
		dir := strings.ReplaceAll(name, "/", "_")
		by := slices.Index(back.Classes, dir)
		var want, got [][]uint8
		for i := range d.Len() {
			if d.Label(i) == y {
				want = append(want, d.Image(i))
			}
		}
		for i := range back.Len() {
			if back.Label(i) == by {
				got = append(got, back.Image(i))
			}
		}
		if len(want) != len(got) {
			t.Fatalf("class %q: %d images back, wrote %d", name, len(got), len(want))
		}
		for k := range want {
			if !slices.Equal(want[k], got[k]) {
				t.Fatalf("class %q image %d: pixels differ after the PNG round trip", name, k)
			}
		}
	}
}

func TestWriteImageFolderJPEGAndRefusals(t *testing.T) {
	split, err := data.Sample(data.MNIST)
	if err != nil {
		t.Fatal(err)
	}
	d := split.Test.Take(20, 1)
	root := filepath.Join(t.TempDir(), "digits")
	if err := d.WriteImageFolder(root, "jpeg"); err != nil {
		t.Fatal(err)
	}
	back, err := data.ImageFolder(root, 28, 28, 1)
	if err != nil || back.Len() != 20 {
		t.Fatalf("read back: %v, %v", back, err)
	}
	// A non-empty root is refused and left as it was.
	for _, c := range []struct{ root, format, want string }{
		{root, "png", "is not empty"},
		{filepath.Join(t.TempDir(), "x"), "gif", `format "gif" is not png or jpeg`},
	} {
		err := d.WriteImageFolder(c.root, c.format)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.root) {
			t.Errorf("WriteImageFolder(%s, %s): %v, want an error naming the folder and %q", c.root, c.format, err, c.want)
		}
	}
	again, err := data.ImageFolder(root, 28, 28, 1)
	if err != nil || !slices.Equal(again.Pixels(), back.Pixels()) {
		t.Errorf("the refused write changed the folder: %v", err)
	}
}
