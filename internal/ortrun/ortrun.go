// Package ortrun runs ONNX files in ONNX Runtime for tests and benchmarks, through the
// Node script tools/ort/run.js and the npm package onnxruntime-node it loads (installed
// by `npm install --ignore-scripts` in tools/ort; .ci/run does it).
package ortrun

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/internal/testenv"
)

// Dir is tools/ort in the repository holding the working directory.
func Dir() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "tools", "ort"), nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		d = parent
	}
}

// Available says what is missing to run ONNX Runtime, or "" if nothing is.
func Available() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed (Debian: apt-get install nodejs)"
	}
	dir, err := Dir()
	if err != nil {
		return err.Error()
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		return "ONNX Runtime for Node is not installed (cd tools/ort && npm install --ignore-scripts)"
	}
	return ""
}

// Require skips the test (or fails it under CONVGRAPH_STRICT=1) when ONNX Runtime cannot run.
func Require(t testing.TB) {
	t.Helper()
	missing := Available()
	testenv.Require(t, missing == "", "%s", missing)
}

// Result is what run.js prints.
type Result struct {
	Inputs  []string  `json:"inputs"`
	Outputs []string  `json:"outputs"`
	Shape   []int     `json:"shape"`  // the first output's
	Values  []float64 `json:"values"` // the first output's
	All     []Output  `json:"all"`
	Ms      []float64 `json:"ms"`
}

// Output is one output of a run.
type Output struct {
	Name   string    `json:"name"`
	Shape  []int     `json:"shape"`
	Values []float64 `json:"values"`
}

// Run runs the model file on x (float32, the given shape). threads 0 leaves ONNX
// Runtime's default; bench > 0 times that many runs instead of returning values.
func Run(model string, x []float32, shape []int, threads, bench int) (*Result, error) {
	return RunMulti(model, [][]float32{x}, [][]int{shape}, threads, bench)
}

// RunMulti is Run for a model with several inputs, given in the model's input order.
func RunMulti(model string, xs [][]float32, shapes [][]int, threads, bench int) (*Result, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	args := []string{filepath.Join(dir, "run.js"), model}
	for k, x := range xs {
		tmp, err := os.CreateTemp("", "ortrun-*.f32")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		raw := make([]byte, 4*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		if _, err := tmp.Write(raw); err != nil {
			tmp.Close()
			return nil, err
		}
		if err := tmp.Close(); err != nil {
			return nil, err
		}
		var dims []string
		for _, d := range shapes[k] {
			dims = append(dims, strconv.Itoa(d))
		}
		args = append(args, tmp.Name(), strings.Join(dims, ","))
	}
	if threads > 0 {
		args = append(args, "--threads", strconv.Itoa(threads))
	}
	if bench > 0 {
		args = append(args, "--bench", strconv.Itoa(bench))
	}
	cmd := exec.Command("node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var r Result
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("ONNX Runtime's output: %v", err)
	}
	return &r, nil
}
