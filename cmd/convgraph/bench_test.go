package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/internal/kernels"
)

func TestBenchJSON(t *testing.T) {
	code, out, errs := runCLI("bench", "--model", "fashion-cnn", "--batch", "4", "--infer-batch", "8",
		"--threads", "1", "--seconds", "0", "--warmup", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	for _, k := range []string{"train_img_per_s", "infer_img_per_s", "path", "threads", "train_bytes_per_step", "max_rss_mb"} {
		if _, ok := res[k]; !ok {
			t.Errorf("no %q in %s", k, out)
		}
	}
	if res["path"] != kernels.Backend() || res["threads"] != 1.0 || res["batch"] != 4.0 || res["infer_batch"] != 8.0 {
		t.Errorf("path, threads or batches wrong: %s", out)
	}
	if v, _ := res["train_img_per_s"].(float64); !(v > 0) {
		t.Errorf("train_img_per_s %v", res["train_img_per_s"])
	}
}

// --freeze times fine-tuning: only the head of the course CNN trains (100*10+10 parameters).
func TestBenchFreeze(t *testing.T) {
	code, out, errs := runCLI("bench", "--model", "fashion-cnn", "--freeze", "backbone", "--batch", "4", "--infer-batch", "4",
		"--seconds", "0", "--warmup", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if res["freeze"] != "backbone" || res["trainable_params"] != 1010.0 {
		t.Errorf("freeze or trainable_params wrong: %s", out)
	}
}

func TestBenchText(t *testing.T) {
	code, out, errs := runCLI("bench", "--model", "mlp", "--batch", "2", "--infer-batch", "2", "--seconds", "0", "--warmup", "0")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"train_img_per_s:", "infer_img_per_s:", "compute path:     " + kernels.Backend(), "threads:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBenchBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--batch", "0"}, "--batch 0 must be positive"},
		{[]string{"bench", "--threads", "-1"}, "--threads -1 must not be negative"},
		{[]string{"bench", "--model", "nope"}, `unknown model "nope"`},
		{[]string{"bench", "--freeze", "conv9"}, `--freeze: model "fashion-cnn" has no layer "conv9"`},
	} {
		code, _, errs := runCLI(c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestBenchUnavailablePath(t *testing.T) {
	t.Setenv(kernels.BlasEnv, "cuda")
	code, _, errs := runCLI("bench", "--seconds", "0")
	if code != 1 || !strings.Contains(errs, "unknown compute path") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
