package dotrender

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/goccy/go-graphviz"
	"github.com/pkg/errors"
)

// Format is an output format.
type Format string

// The formats [Render] writes.
const (
	DOT Format = "dot" // the DOT source itself, unchanged
	SVG Format = "svg"
	PNG Format = "png"
)

// FormatOf picks the format for a file name by its extension, in any case: .dot or .gv
// (DOT), .svg or .png. Any other extension, or none, is an error naming it.
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".dot", ".gv":
		return DOT, nil
	case ".svg":
		return SVG, nil
	case ".png":
		return PNG, nil
	case "":
		return "", errors.Errorf("dotrender: %q has no extension (want .dot, .gv, .svg or .png)", path)
	default:
		return "", errors.Errorf("dotrender: unknown output format %q of %q (want .dot, .gv, .svg or .png)", ext, path)
	}
}

// Engine chooses the Graphviz that lays out and draws.
type Engine int

const (
	// Auto uses System when the dot program is on PATH, Go otherwise.
	Auto Engine = iota
	// System runs the dot program.
	System
	// Go runs Graphviz compiled to WebAssembly in this process.
	Go
)

func (e Engine) String() string {
	switch e {
	case Auto:
		return "auto"
	case System:
		return "dot"
	case Go:
		return "go"
	}
	return fmt.Sprintf("Engine(%d)", int(e))
}

// SystemDot returns the path of the dot program, or "" when it is not on PATH.
func SystemDot() string {
	p, err := exec.LookPath("dot")
	if err != nil {
		return ""
	}
	return p
}

// Render draws DOT source in format f with engine e. DOT returns src unchanged. PNG is
// drawn at 96 pixels per inch (Graphviz's default), smaller when a side would pass 16,384
// pixels. It is an error if src is not valid DOT, or the engine fails.
func Render(src []byte, f Format, e Engine) ([]byte, error) {
	switch f {
	case DOT:
		return src, nil
	case SVG, PNG:
	default:
		return nil, errors.Errorf("dotrender: unknown format %q (want dot, svg or png)", string(f))
	}
	switch e {
	case Auto:
		if SystemDot() != "" {
			return renderSystem(src, f)
		}
		return renderGo(src, f)
	case System:
		return renderSystem(src, f)
	case Go:
		return renderGo(src, f)
	}
	return nil, errors.Errorf("dotrender: unknown engine %v", e)
}

// renderSystem pipes src through dot -T<f>.
func renderSystem(src []byte, f Format) ([]byte, error) {
	bin := SystemDot()
	if bin == "" {
		return nil, errors.New("dotrender: the dot program (Graphviz) is not on PATH; install graphviz or use the Go engine")
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command(bin, "-T"+string(f))
	cmd.Stdin = bytes.NewReader(src)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.Errorf("dotrender: dot -T%s: %s", f, firstLine(msg))
	}
	return out.Bytes(), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

var (
	gvMu sync.Mutex // go-graphviz's WebAssembly instance runs one call at a time
	gv   *graphviz.Graphviz
)

// renderGo lays src out with the WebAssembly Graphviz: Graphviz's SVG, or a PNG drawn
// here from its json layout.
func renderGo(src []byte, f Format) (out []byte, err error) {
	gvMu.Lock()
	defer gvMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, errors.Errorf("dotrender: go-graphviz: panic: %v", r)
		}
	}()
	ctx := context.Background()
	if gv == nil {
		g, err := graphviz.New(ctx)
		if err != nil {
			return nil, errors.Wrap(err, "dotrender: go-graphviz")
		}
		gv = g
	}
	g, err := graphviz.ParseBytes(src)
	if err != nil {
		return nil, errors.Wrap(err, "dotrender: go-graphviz: parsing DOT")
	}
	defer g.Close()
	var buf bytes.Buffer
	format := graphviz.SVG
	if f == PNG {
		format = graphviz.Format("json")
	}
	if err := gv.Render(ctx, g, format, &buf); err != nil {
		return nil, errors.Wrapf(err, "dotrender: go-graphviz: rendering %s", f)
	}
	if f == SVG {
		return buf.Bytes(), nil
	}
	png, err := rasterize(buf.Bytes(), 96)
	return png, errors.Wrap(err, "dotrender: drawing PNG")
}
