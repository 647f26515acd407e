package data_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/convgraph/convgraph/data"
)

func ExampleSample() {
	split, err := data.Sample(data.FashionMNIST)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(split.Train)
	fmt.Println(split.Test)
	fmt.Println(split.Train.Classes[split.Train.Label(0)])
	// A program using the sample says so, loudly.
	fmt.Println(strings.SplitN(split.Notice(), "\n", 2)[0])
	// Output:
	// fashion-mnist/train: 2000 images 28x28x1, 10 classes (SAMPLE)
	// fashion-mnist/test: 500 images 28x28x1, 10 classes (SAMPLE)
	// Ankle boot
	// NOTICE: using the bundled SAMPLE of fashion-mnist (2000 training and 500 test images), not the full data set.
}

// writeIDX writes x to path as gzipped IDX.
func writeIDX(path string, x *data.IDX) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	if err := data.EncodeIDX(zw, x); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func ExampleLoad() {
	// Lay out a data folder as Debian's dataset-fashion-mnist would, from the
	// bundled sample; on a real machine it is already there.
	dir, err := os.MkdirTemp("", "convgraph-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sample, err := data.Sample(data.FashionMNIST)
	if err != nil {
		log.Fatal(err)
	}
	spec, _ := data.Lookup(data.FashionMNIST)
	for i, d := range []*data.Dataset{sample.Train, sample.Test} {
		labels := make([]byte, d.Len())
		for j, y := range d.Labels() {
			labels[j] = byte(y)
		}
		files := []data.File{spec.TrainImages, spec.TrainLabels, spec.TestImages, spec.TestLabels}[2*i:]
		if err := writeIDX(filepath.Join(dir, files[0].Name), &data.IDX{Dims: []int{d.Len(), 28, 28}, Data: d.Pixels()}); err != nil {
			log.Fatal(err)
		}
		if err := writeIDX(filepath.Join(dir, files[1].Name), &data.IDX{Dims: []int{d.Len()}, Data: labels}); err != nil {
			log.Fatal(err)
		}
	}

	// What `convgraph train --data-dir DIR` does; Offline keeps it off the network.
	split, err := data.Load(data.FashionMNIST, data.Dir(dir), data.Offline())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(split.Train)
	fmt.Println(split.Test)
	fmt.Println(split.Train.Source == dir, split.IsSample())
	// Output:
	// fashion-mnist/train: 2000 images 28x28x1, 10 classes
	// fashion-mnist/test: 500 images 28x28x1, 10 classes
	// true false
}

func ExampleRegister() {
	spec := data.Spec{
		Name:        "kmnist-example",
		Classes:     []string{"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"},
		TrainImages: data.File{Name: "train-images-idx3-ubyte.gz"},
		TrainLabels: data.File{Name: "train-labels-idx1-ubyte.gz"},
		TestImages:  data.File{Name: "t10k-images-idx3-ubyte.gz"},
		TestLabels:  data.File{Name: "t10k-labels-idx1-ubyte.gz"},
		Hint:        "put the KMNIST files in $CONVGRAPH_DATA/kmnist-example",
	}
	if _, ok := data.Lookup(spec.Name); !ok { // registered once per process
		data.Register(spec)
	}
	_, err := data.Load("kmnist-example", data.CacheDir(os.DevNull), data.SystemDir(""), data.Offline())
	var nf *data.NotFoundError
	if errors.As(err, &nf) {
		for _, a := range nf.Tried {
			fmt.Println("tried", a.Place)
		}
		fmt.Println("fix:", nf.Hint)
	}
	// Output:
	// tried $CONVGRAPH_DATA
	// tried cache
	// tried download
	// fix: put the KMNIST files in $CONVGRAPH_DATA/kmnist-example
}

func ExampleReadIDX() {
	path := filepath.Join(os.TempDir(), "convgraph-example-labels.gz")
	defer os.Remove(path)
	if err := writeIDX(path, &data.IDX{Dims: []int{4}, Data: []byte{3, 1, 4, 1}}); err != nil {
		log.Fatal(err)
	}
	x, err := data.ReadIDX(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("magic 0x%08x, dims %v, data %v\n", x.Magic(), x.Dims, x.Data)

	// Errors name the file.
	if err := writeIDX(path, &data.IDX{Dims: []int{3}, Data: []byte{3, 1, 4}}); err != nil {
		log.Fatal(err)
	}
	_, err = data.ReadIDXDataset(path, path, nil)
	fmt.Println(strings.ReplaceAll(err.Error(), path, "labels.gz"))
	// Output:
	// magic 0x00000801, dims [4], data [3 1 4 1]
	// data: labels.gz: magic 0x00000801 (1 dimensions), want 0x00000803 (IDX images); this is an IDX labels file
}

// A download, here from a local server standing in for a mirror: each file
// lands in the cache only once its SHA-256 matches.
func ExampleLoad_download() {
	// Publish the MNIST sample's files under a new name, with their checksums.
	sample, err := data.Sample(data.MNIST)
	if err != nil {
		log.Fatal(err)
	}
	spec := data.Spec{Name: "digits-example", Classes: sample.Train.Classes}
	published := map[string][]byte{}
	files := []*data.File{&spec.TrainImages, &spec.TrainLabels, &spec.TestImages, &spec.TestLabels}
	for i, d := range []*data.Dataset{sample.Train, sample.Train, sample.Test, sample.Test} {
		x := &data.IDX{Dims: []int{d.Len(), 28, 28}, Data: d.Pixels()}
		name := []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}[i]
		if i%2 == 1 {
			x = &data.IDX{Dims: []int{d.Len()}, Data: make([]byte, d.Len())}
			for j, y := range d.Labels() {
				x.Data[j] = byte(y)
			}
		}
		var raw bytes.Buffer
		if err := data.EncodeIDX(&raw, x); err != nil {
			log.Fatal(err)
		}
		sum := sha256.Sum256(raw.Bytes())
		published[name] = raw.Bytes()
		*files[i] = data.File{Name: name, SHA256: hex.EncodeToString(sum[:]), ContentSHA256: x.ContentSHA256()}
	}
	if _, ok := data.Lookup(spec.Name); !ok { // registered once per process
		data.Register(spec)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := published[path.Base(r.URL.Path)]
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	}))
	defer srv.Close()

	cache, err := os.MkdirTemp("", "convgraph-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)
	split, err := data.Load("digits-example",
		data.CacheDir(cache), data.SystemDir(""), data.BaseURL(srv.URL),
		data.OnProgress(func(p data.Progress) {
			if p.Done == p.Total {
				fmt.Printf("%s: %d bytes\n", p.File, p.Done)
			}
		}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(split.Train)
	fmt.Println(split.Train.Source == filepath.Join(cache, "digits-example"))
	// Output:
	// train-images-idx3-ubyte: 1568016 bytes
	// train-labels-idx1-ubyte: 2008 bytes
	// t10k-images-idx3-ubyte: 392016 bytes
	// t10k-labels-idx1-ubyte: 508 bytes
	// digits-example/train: 2000 images 28x28x1, 10 classes
	// true
}
