package data

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// WriteImageFolder writes the data set as root/<class>/<class>-<index>.<format>, the layout
// [ImageFolder] reads back, so a data set can be looked at in an image viewer or handed to
// another tool. format is "png" (lossless: ImageFolder returns the same pixels) or "jpeg"
// (quality 95). Gray sets become gray images and three-channel sets RGB. A '/' or '\' in a
// class name (Fashion-MNIST's "T-shirt/top") becomes '_'; classes without images get no
// folder. root must not exist or be an empty directory, so nothing is ever overwritten.
func (d *Dataset) WriteImageFolder(root, format string) error {
	if format != "png" && format != "jpeg" {
		return errors.Errorf("data: WriteImageFolder %s: format %q is not png or jpeg", root, format)
	}
	if d.c != 1 && d.c != 3 {
		return errors.Errorf("data: WriteImageFolder %s: %s has %d channels; only gray (1) and RGB (3) are written", root, d.Name, d.c)
	}
	if entries, err := os.ReadDir(root); err == nil && len(entries) > 0 {
		return errors.Errorf("data: WriteImageFolder: %s is not empty", root)
	}
	dirs := make([]string, len(d.Classes))
	seen := map[string]string{}
	for y, name := range d.Classes {
		dir := strings.NewReplacer("/", "_", `\`, "_").Replace(name)
		if dir == "" || dir == "." || dir == ".." || strings.HasPrefix(dir, ".") {
			dir = fmt.Sprintf("class%d", y)
		}
		if other, dup := seen[dir]; dup {
			return errors.Errorf("data: WriteImageFolder %s: classes %q and %q would share the folder %q", root, other, name, dir)
		}
		seen[dir], dirs[y] = name, dir
	}
	ext := map[string]string{"png": ".png", "jpeg": ".jpg"}[format]
	for i := range d.Len() {
		y := d.labels[i]
		dir := filepath.Join(root, dirs[y])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return errors.Wrap(err, "data: WriteImageFolder")
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%05d%s", dirs[y], i, ext))
		if err := writeImage(path, d.toImage(i), format); err != nil {
			return errors.Wrapf(err, "data: WriteImageFolder %s", path)
		}
	}
	return nil
}

// toImage is image i as a Go image: gray or RGB.
func (d *Dataset) toImage(i int) image.Image {
	px, r := d.Image(i), image.Rect(0, 0, d.w, d.h)
	if d.c == 1 {
		return &image.Gray{Pix: px, Stride: d.w, Rect: r}
	}
	img := image.NewRGBA(r)
	for p := range d.h * d.w {
		copy(img.Pix[4*p:4*p+3], px[3*p:3*p+3])
		img.Pix[4*p+3] = 255
	}
	return img
}

func writeImage(path string, img image.Image, format string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if format == "png" {
		err = png.Encode(f, img)
	} else {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 95})
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
