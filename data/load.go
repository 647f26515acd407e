package data

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// EnvVar names the environment variable whose value is a folder of data
// sets: Load looks for a set in $CONVGRAPH_DATA/<name>.
const EnvVar = "CONVGRAPH_DATA"

// DefaultSystemDir is where Debian's dataset packages install data sets
// (dataset-fashion-mnist puts the four files in /usr/share/datasets/fashion-mnist).
const DefaultSystemDir = "/usr/share/datasets"

// Split is a data set's training and test parts.
type Split struct {
	Train, Test *Dataset
	// Fallback is non-nil when Load fell back to the bundled sample
	// (option [SampleFallback]); it says why the full set was not found.
	Fallback error
	// Mismatch is non-empty when the files read are another known data set's:
	// their training labels have that set's checksum (Fashion-MNIST's files in
	// an mnist folder would train on clothes labelled as digits). Load still
	// returns them; the caller should warn.
	Mismatch string
}

// IsSample reports whether the split is the bundled sample.
func (s *Split) IsSample() bool { return s.Train.Sample }

// Notice returns a loud multi-line notice to print when the split is the
// bundled sample, or "" for a full data set.
func (s *Split) Notice() string {
	if !s.IsSample() {
		return ""
	}
	name := strings.TrimSuffix(s.Train.Name, "/train")
	var b strings.Builder
	fmt.Fprintf(&b, "NOTICE: using the bundled SAMPLE of %s (%d training and %d test images), not the full data set.\n",
		name, s.Train.Len(), s.Test.Len())
	b.WriteString("NOTICE: accuracies will be lower and noisier than on the full set.\n")
	if s.Fallback != nil {
		fmt.Fprintf(&b, "NOTICE: the full set was not found: %v\n", s.Fallback)
	} else if spec, ok := Lookup(name); ok && spec.Hint != "" {
		fmt.Fprintf(&b, "NOTICE: to use the full set, %s.\n", spec.Hint)
	}
	return b.String()
}

// Option configures [Load].
type Option func(*loadConfig)

type loadConfig struct {
	ctx            context.Context
	dir            string
	cacheDir       string
	systemDir      string
	offline        bool
	baseURL        string
	client         *http.Client
	progress       func(Progress)
	bar            io.Writer
	verify         bool
	sampleFallback bool
}

// Dir makes Load look in dir first (the CLI's --data-dir): dir itself holds
// the four files, or dir/<name> does.
func Dir(dir string) Option { return func(c *loadConfig) { c.dir = dir } }

// CacheDir replaces the cache root (default os.UserCacheDir()/convgraph);
// Load looks in and downloads to CacheDir/<name>.
func CacheDir(dir string) Option { return func(c *loadConfig) { c.cacheDir = dir } }

// SystemDir replaces the system folder of data sets (default
// [DefaultSystemDir]); "" skips it.
func SystemDir(dir string) Option { return func(c *loadConfig) { c.systemDir = dir } }

// Offline forbids downloads: Load only looks on disk.
func Offline() Option { return func(c *loadConfig) { c.offline = true } }

// BaseURL replaces the spec's download location; a file is fetched from
// url + "/" + file name.
func BaseURL(url string) Option { return func(c *loadConfig) { c.baseURL = url } }

// HTTPClient sets the client used for downloads (default http.DefaultClient).
func HTTPClient(client *http.Client) Option { return func(c *loadConfig) { c.client = client } }

// OnProgress calls fn as a download goes on (see [Progress]).
func OnProgress(fn func(Progress)) Option { return func(c *loadConfig) { c.progress = fn } }

// ProgressBar draws a progress bar of each download on w, typically os.Stderr
// when it is a terminal; nil draws none.
func ProgressBar(w io.Writer) Option { return func(c *loadConfig) { c.bar = w } }

// Verify makes Load check the SHA-256 of the content of files found on disk
// too, not only of downloads (it costs about a tenth of a second for
// Fashion-MNIST).
func Verify() Option { return func(c *loadConfig) { c.verify = true } }

// SampleFallback makes Load return the bundled sample (see [Sample]) when the
// full set is found nowhere, with [Split.Fallback] saying why.
func SampleFallback() Option { return func(c *loadConfig) { c.sampleFallback = true } }

// Context sets the context that cancels downloads.
func Context(ctx context.Context) Option { return func(c *loadConfig) { c.ctx = ctx } }

// Attempt is one place Load looked for a data set, and why it was not used.
type Attempt struct {
	Place  string // what the place is: "--data-dir", "$CONVGRAPH_DATA", "cache", "system", "download"
	Path   string // the folder or URL
	Reason string
}

func (a Attempt) String() string {
	if a.Path == "" {
		return a.Place + " (" + a.Reason + ")"
	}
	return a.Place + " " + a.Path + " (" + a.Reason + ")"
}

// NotFoundError is returned by Load when a data set is found nowhere. Its
// message is one line: what was tried and how to fix it.
type NotFoundError struct {
	Name  string
	Tried []Attempt
	Hint  string
}

func (e *NotFoundError) Error() string {
	tried := make([]string, len(e.Tried))
	for i, a := range e.Tried {
		tried[i] = a.String()
	}
	s := fmt.Sprintf("data: %s not found; tried %s", e.Name, strings.Join(tried, "; "))
	if e.Hint != "" {
		s += "; to fix: " + e.Hint
	}
	return s
}

// Load finds the named data set (see [Names]) and reads its training and test
// parts. It looks, in this order, in the [Dir] option's folder,
// $CONVGRAPH_DATA/<name>, the cache (os.UserCacheDir()/convgraph/<name>) and
// /usr/share/datasets/<name>; the first folder that holds all four files is
// read. Failing that, and unless [Offline], it downloads the files into the
// cache, checking their SHA-256. When everything fails it returns a
// *[NotFoundError] listing what it tried (or, with [SampleFallback], the
// bundled sample).
//
// A folder that holds all four files but a bad one is an error, not a reason
// to look further: the error names the file.
func Load(name string, opts ...Option) (*Split, error) {
	spec, ok := Lookup(name)
	if !ok {
		return nil, errors.Errorf("data: unknown data set %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	cfg := loadConfig{ctx: context.Background(), systemDir: DefaultSystemDir, client: http.DefaultClient}
	for _, o := range opts {
		o(&cfg)
	}
	var tried []Attempt
	try := func(place, dir string) (*Split, bool, error) {
		paths, reason := findFiles(dir, spec)
		if reason != "" {
			tried = append(tried, Attempt{place, dir, reason})
			return nil, false, nil
		}
		s, err := readSplit(spec, paths, cfg.verify)
		if err != nil {
			return nil, true, err
		}
		s.Train.Source, s.Test.Source = dir, dir
		return s, true, nil
	}

	if cfg.dir != "" {
		dir := cfg.dir
		if _, reason := findFiles(dir, spec); reason != "" {
			if _, sub := findFiles(filepath.Join(dir, name), spec); sub == "" {
				dir = filepath.Join(dir, name)
			}
		}
		if s, done, err := try("--data-dir", dir); done {
			return s, err
		}
	}
	if env := os.Getenv(EnvVar); env != "" {
		if s, done, err := try("$"+EnvVar, filepath.Join(env, name)); done {
			return s, err
		}
	} else {
		tried = append(tried, Attempt{Place: "$" + EnvVar, Reason: "not set"})
	}
	cache := cfg.cacheDir
	if cache == "" {
		if user, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(user, "convgraph")
		} else {
			tried = append(tried, Attempt{Place: "cache", Reason: err.Error()})
		}
	}
	if cache != "" {
		if s, done, err := try("cache", filepath.Join(cache, name)); done {
			return s, err
		}
	}
	if cfg.systemDir != "" {
		if s, done, err := try("system", filepath.Join(cfg.systemDir, name)); done {
			return s, err
		}
	}

	base := cfg.baseURL
	if base == "" {
		base = spec.BaseURL
	}
	switch {
	case cfg.offline:
		tried = append(tried, Attempt{Place: "download", Reason: "disabled: offline"})
	case base == "":
		tried = append(tried, Attempt{Place: "download", Reason: "no download location for " + name})
	case cache == "":
		tried = append(tried, Attempt{Place: "download", Path: base, Reason: "no cache folder to download into"})
	default:
		dir := filepath.Join(cache, name)
		if err := downloadAll(&cfg, spec, base, dir); err != nil {
			tried = append(tried, Attempt{"download", base, err.Error()})
			break
		}
		s, done, err := try("download", dir)
		if done {
			return s, err
		}
	}

	nf := &NotFoundError{Name: name, Tried: tried, Hint: spec.Hint}
	if cfg.sampleFallback {
		s, err := Sample(name)
		if err != nil {
			return nil, nf
		}
		s.Fallback = nf
		return s, nil
	}
	return nil, nf
}

// findFiles returns the paths of the spec's four files in dir (each either
// gzipped under its name, or raw under its name without ".gz"), or why not.
func findFiles(dir string, spec Spec) ([]string, string) {
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return nil, "no such folder"
	case err != nil:
		return nil, err.Error()
	case !st.IsDir():
		return nil, "not a folder"
	}
	var paths, missing []string
	for _, f := range spec.files() {
		p, ok := findFile(dir, f.Name)
		if !ok {
			missing = append(missing, f.Name)
		}
		paths = append(paths, p)
	}
	if len(missing) > 0 {
		return nil, "missing " + strings.Join(missing, ", ")
	}
	return paths, ""
}

func findFile(dir, name string) (string, bool) {
	for _, n := range []string{name, strings.TrimSuffix(name, ".gz")} {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// readSplit reads the four files at paths (train images, train labels, test
// images, test labels).
func readSplit(spec Spec, paths []string, verify bool) (*Split, error) {
	files := spec.files()
	idx := make([]*IDX, 4)
	for i, p := range paths {
		x, err := ReadIDX(p)
		if err != nil {
			return nil, err
		}
		if verify && files[i].ContentSHA256 != "" {
			if got := x.ContentSHA256(); got != files[i].ContentSHA256 {
				return nil, errors.Errorf("data: %s: content SHA-256 %s, want %s", p, got, files[i].ContentSHA256)
			}
		}
		idx[i] = x
	}
	train, err := idxDataset(idx[0], paths[0], idx[1], paths[1], spec.Classes)
	if err != nil {
		return nil, err
	}
	test, err := idxDataset(idx[2], paths[2], idx[3], paths[3], spec.Classes)
	if err != nil {
		return nil, err
	}
	if train.h != test.h || train.w != test.w {
		return nil, errors.Errorf("data: %s: images are %dx%d but %s has %dx%d", paths[2], test.h, test.w, paths[0], train.h, train.w)
	}
	train.Name, test.Name = spec.Name+"/train", spec.Name+"/test"
	return &Split{Train: train, Test: test, Mismatch: mismatch(spec, idx[1], paths[1])}, nil
}

// mismatch names the known data set whose training labels the file at path holds, when
// that is not spec's. Labels are 60 KB, so the check costs nothing next to the images.
func mismatch(spec Spec, labels *IDX, path string) string {
	want := spec.TrainLabels.ContentSHA256
	if want == "" {
		return ""
	}
	got := labels.ContentSHA256()
	if got == want {
		return ""
	}
	registryMu.RLock()
	defer registryMu.RUnlock()
	for name, other := range registry {
		if name != spec.Name && other.TrainLabels.ContentSHA256 == got {
			return fmt.Sprintf("%s holds %s's training labels (their SHA-256 matches), not %s's: the model would learn %s's classes under %s's names",
				path, name, spec.Name, name, spec.Name)
		}
	}
	return ""
}
