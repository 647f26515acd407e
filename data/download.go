package data

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
)

// Progress reports how far one download has come.
type Progress struct {
	File  string // the file's name, e.g. "train-images-idx3-ubyte.gz"
	Done  int64  // bytes received so far
	Total int64  // the size announced by the server, or -1 if unknown
}

// downloadAll fetches every file of spec that dir lacks.
func downloadAll(cfg *loadConfig, spec Spec, base, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrap(err, "creating the cache folder")
	}
	for _, f := range spec.files() {
		if _, ok := findFile(dir, f.Name); ok {
			continue
		}
		url := strings.TrimSuffix(base, "/") + "/" + f.Name
		if err := download(cfg, url, filepath.Join(dir, f.Name), f); err != nil {
			return err
		}
	}
	return nil
}

// download fetches url into dst through a temporary file in dst's folder,
// renamed into place only once its checksum is right, so the cache never
// holds half a file.
func download(cfg *loadConfig, url, dst string, f File) (err error) {
	if f.SHA256 == "" && f.ContentSHA256 == "" {
		return errors.Errorf("%s: no checksum registered, refusing to download", f.Name)
	}
	req, err := http.NewRequestWithContext(cfg.ctx, http.MethodGet, url, nil)
	if err != nil {
		return errors.Wrapf(err, "%s", url)
	}
	resp, err := cfg.client.Do(req)
	if err != nil {
		return errors.Wrapf(err, "%s", f.Name)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.Errorf("%s: %s", url, resp.Status)
	}

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+f.Name+".*.part")
	if err != nil {
		return errors.Wrap(err, "creating a temporary file")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	hash := sha256.New()
	sinks := []io.Writer{tmp, hash}
	if cfg.progress != nil {
		sinks = append(sinks, &progressWriter{fn: cfg.progress, p: Progress{File: f.Name, Total: resp.ContentLength}})
	}
	var bar *progressbar.ProgressBar
	if cfg.bar != nil {
		bar = progressbar.NewOptions64(resp.ContentLength,
			progressbar.OptionSetWriter(cfg.bar),
			progressbar.OptionSetDescription("downloading "+f.Name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { io.WriteString(cfg.bar, "\n") }),
		)
		sinks = append(sinks, bar)
	}
	n, err := io.Copy(io.MultiWriter(sinks...), resp.Body)
	if err != nil {
		return errors.Wrapf(err, "%s: after %d bytes", url, n)
	}
	if bar != nil {
		bar.Finish()
	}
	if err := tmp.Close(); err != nil {
		return errors.Wrap(err, "writing "+tmp.Name())
	}

	got := hex.EncodeToString(hash.Sum(nil))
	if got != f.SHA256 {
		// A mirror may recompress the same data; its content must then match.
		x, rerr := ReadIDX(tmp.Name())
		if rerr != nil || f.ContentSHA256 == "" || x.ContentSHA256() != f.ContentSHA256 {
			return errors.Errorf("%s: checksum mismatch: SHA-256 %s, want %s", url, got, f.SHA256)
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return errors.Wrap(err, "moving the download into place")
	}
	return nil
}

type progressWriter struct {
	fn func(Progress)
	p  Progress
}

func (w *progressWriter) Write(b []byte) (int, error) {
	w.p.Done += int64(len(b))
	w.fn(w.p)
	return len(b), nil
}
