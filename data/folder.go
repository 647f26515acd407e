package data

import (
	"bufio"
	"fmt"
	"image"
	_ "image/jpeg" // registers JPEG for image.Decode
	_ "image/png"  // registers PNG for image.Decode
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/pkg/errors"
	"golang.org/x/image/draw"

	"github.com/convgraph/convgraph/internal/limits"
)

// imageExts are the file extensions ImageFolder reads (case does not matter).
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// ImageFolder reads a data set laid out as root/<class>/<image>, the layout
// of Keras's image_dataset_from_directory: each sub-folder of root is a
// class, classes sorted by name (label i is the i-th name), and every .png,
// .jpg or .jpeg file under a class folder (sub-folders included, in lexical
// order) is an image of that class. Other files are ignored. Images are
// converted to c channels (1 gray, 3 RGB, 4 RGBA) and resized to h×w
// bilinearly (see [ReadImage]).
//
// A class folder may be a symbolic link to a folder (it is followed); a link
// to a folder inside a class folder is an error, so that a data set cannot
// loop or grow silently. Image files are read as [ReadImage] reads them, and
// the data set's pixels must fit the memory budget ([limits.Memory]).
//
// It returns an error naming the folder if root has no class folders or a
// class folder has no images, and naming the file if an image cannot be
// decoded.
func ImageFolder(root string, h, w, c int) (*Dataset, error) {
	if err := checkShape(h, w, c); err != nil {
		return nil, errors.Wrapf(err, "data: %s", root)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, errors.Wrap(err, "data")
	}
	var classes, paths []string
	var labels []int
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		walkRoot := dir
		if e.Type()&fs.ModeSymlink != 0 {
			// A linked class folder is followed (Keras's loader follows links too).
			st, err := os.Stat(dir)
			if err != nil {
				return nil, errors.Wrapf(err, "data: %s: class folder is a broken symbolic link", dir)
			}
			if !st.IsDir() {
				continue
			}
			if walkRoot, err = filepath.EvalSymlinks(dir); err != nil {
				return nil, errors.Wrap(err, "data")
			}
		} else if !e.IsDir() {
			continue
		}
		n := len(paths)
		err := filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && p != walkRoot {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			shown := filepath.Join(dir, strings.TrimPrefix(p, walkRoot)) // the path under root, for messages
			if d.Type()&fs.ModeSymlink != 0 {
				if st, err := os.Stat(p); err == nil && st.IsDir() {
					return errors.Errorf("%s: a symbolic link to a folder inside class folder %s; only class folders themselves may be links", shown, dir)
				}
			}
			if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(p))] {
				p = shown
				paths = append(paths, p)
				labels = append(labels, len(classes))
			}
			return nil
		})
		if err != nil {
			return nil, errors.Wrap(err, "data")
		}
		if len(paths) == n {
			return nil, errors.Errorf("data: %s: class folder has no images (.png, .jpg, .jpeg)", dir)
		}
		classes = append(classes, e.Name())
	}
	if len(classes) == 0 {
		return nil, errors.Errorf("data: %s: no class folders (want %s/<class>/<image>.png)", root, root)
	}
	sort.Strings(classes) // ReadDir already sorts; say it here too

	size := h * w * c
	need := int64(len(paths)) * int64(size)
	if err := limits.CheckMemory(fmt.Sprintf("data: %s: %d images of %dx%dx%d", root, len(paths), h, w, c), need, ""); err != nil {
		return nil, err
	}
	pixels := make([]uint8, need)
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				errs[i] = readImageInto(pixels[i*size:(i+1)*size], paths[i], h, w, c)
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	d := newDataset(pixels, labels, h, w, c, classes)
	d.Name, d.Source, d.Resize = filepath.Base(filepath.Clean(root)), root, "stretch"
	return d, nil
}

func checkShape(h, w, c int) error {
	if h < 1 || w < 1 {
		return errors.Errorf("bad image size %dx%d", h, w)
	}
	if c != 1 && c != 3 && c != 4 {
		return errors.Errorf("%d channels not supported (1, 3 or 4)", c)
	}
	return nil
}

// ReadImage reads a PNG or JPEG file as h×w×c bytes in HWC order: converted to
// c channels (1: gray by the ITU-R 601 luma weights, as PIL's convert("L");
// 3: RGB; 4: RGBA, colours premultiplied so that transparent is black) and
// resized with bilinear interpolation (golang.org/x/image/draw.BiLinear) if
// its size differs. Errors name the file.
//
// Limits, checked before any pixel is decoded: the file is a regular file
// (symbolic links followed; directories, devices and named pipes refused) of
// at most 256 MiB; its header (image.DecodeConfig) claims at most 2^26 pixels
// (8192×8192); and a resize needs at most 2^23 scratch values: the bilinear
// scaler first scales the rows, into a w × source-height scratch of four
// float64 each, so a 1×67,108,864 image resized to 28 wide would need 56 GiB.
func ReadImage(path string, h, w, c int) ([]uint8, error) {
	if err := checkShape(h, w, c); err != nil {
		return nil, errors.Wrapf(err, "data: %s", path)
	}
	dst := make([]uint8, h*w*c)
	if err := readImageInto(dst, path, h, w, c); err != nil {
		return nil, err
	}
	return dst, nil
}

func readImageInto(dst []uint8, path string, h, w, c int) error {
	f, _, err := limits.Open(path, MaxImageFileBytes)
	if err != nil {
		return errors.Wrap(err, "data")
	}
	defer f.Close()
	return decodeImageInto(dst, f, path, h, w, c)
}

// Image limits (see [ReadImage]).
const (
	// MaxImageFileBytes bounds an image file's size.
	MaxImageFileBytes = 256 << 20
	// MaxImagePixels bounds the pixels an image's header may claim, so that a
	// forged header cannot make us allocate gigabytes.
	MaxImagePixels = 1 << 26
	// maxResizeScratch bounds the values of the bilinear scaler's scratch
	// (destination width × source height, 32 bytes each): 256 MiB.
	maxResizeScratch = 1 << 23
)

func decodeImageInto(dst []uint8, r io.ReadSeeker, name string, h, w, c int) error {
	cfg, _, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return errors.Wrapf(err, "data: %s: cannot decode image", name)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return errors.Errorf("data: %s: cannot decode image: it claims %dx%d pixels", name, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return errors.Errorf("data: %s: image of %dx%d pixels is too large (the limit is %d pixels, 8192x8192)", name, cfg.Width, cfg.Height, MaxImagePixels)
	}
	resize := cfg.Width != w || cfg.Height != h
	if scratch := int64(w) * int64(cfg.Height); resize && scratch > maxResizeScratch {
		return errors.Errorf("data: %s: image of %dx%d pixels is too large to resize to %dx%d: the resize needs %s of scratch (%dx%d values), more than the limit of %s",
			name, cfg.Width, cfg.Height, w, h, limits.FormatBytes(32*scratch), w, cfg.Height, limits.FormatBytes(32*maxResizeScratch))
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return errors.Wrapf(err, "data: %s", name)
	}
	src, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return errors.Wrapf(err, "data: %s: cannot decode image", name)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	if b := src.Bounds(); b.Dx() == w && b.Dy() == h {
		draw.Copy(rgba, image.Point{}, src, b, draw.Src, nil)
	} else {
		draw.BiLinear.Scale(rgba, rgba.Bounds(), src, b, draw.Src, nil)
	}
	pix := rgba.Pix
	for i := range w * h {
		r, g, b, a := pix[4*i], pix[4*i+1], pix[4*i+2], pix[4*i+3]
		switch c {
		case 1:
			dst[i] = uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
		case 3:
			dst[3*i], dst[3*i+1], dst[3*i+2] = r, g, b
		case 4:
			dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = r, g, b, a
		}
	}
	return nil
}
