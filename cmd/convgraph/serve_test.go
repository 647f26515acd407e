package main

import (
	"bufio"
	"bytes"
	"image"
	"image/png"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "serve needs --checkpoint"},
		{[]string{"serve", "--model", "fashion-cnn"}, "needs --pretrained"},
		{[]string{"serve", "--pretrained"}, "serve needs --checkpoint"},
		{[]string{"serve", "--model", "mlp", "--pretrained"}, `"mlp" has no pretrained weights`},
		{[]string{"serve", "--model", "nope", "--pretrained"}, `no zoo model "nope"`},
		{[]string{"serve", "--model", "fashion-cnn", "--pretrained", "--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"serve", "--model", "fashion-cnn", "--pretrained", "--max-body", "lots"}, `--max-body "lots"`},
		{[]string{"serve", "--model", "fashion-cnn", "--pretrained", "--max-batch", "-1"}, "--max-batch must not be negative"},
		{[]string{"serve", "--model", "a=fashion-cnn", "--model", "a=resnet-small", "--pretrained"}, `model "a" given twice`},
	} {
		code, _, errs := runCLI(c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || !strings.HasPrefix(errs, "convgraph: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
	code, _, errs := runCLI("serve", "--checkpoint", "/nonexistent/model.safetensors")
	if code != 1 || !strings.Contains(errs, "/nonexistent/model.safetensors") {
		t.Errorf("missing checkpoint: exit %d, %q", code, errs)
	}
}

// The binary serves a pretrained model on a free port, answers a prediction, and on
// SIGTERM finishes and exits 0.
func TestServeAnswersAndStopsOnSIGTERM(t *testing.T) {
	bin := sharedBinary(t)
	cmd := exec.Command(bin, "serve", "--model", "fashion-cnn", "--pretrained", "--addr", "127.0.0.1:0", "--log-format", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "serving on http://127.0.0.1:") {
		t.Fatalf("first line %q (%v); stderr %s", line, err, stderr.String())
	}
	url := strings.TrimSpace(strings.TrimPrefix(line, "serving on "))
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 28, 28)))
	resp, err := http.Post(url+"/v1/models/fashion-cnn/predict", "image/png", &b)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"predictions":[{"top":[{"class":`) {
		t.Fatalf("predict: %d %s", resp.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still running 20 s after SIGTERM")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no shutdown log: %s", stderr.String())
	}
}
