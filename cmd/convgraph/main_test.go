package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSummary(t *testing.T) {
	code, out, errs := runCLI("summary", "--model", "fashion-cnn")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"Total params: 333,526", "Trainable params: 333,526", "Non-trainable params: 0", "dense_1 (Dense)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"summary"}, 2, "summary needs --model NAME"},
		{[]string{"summary", "--model", "nope"}, 2, `unknown model "nope"`},
		{[]string{"summary", "--model"}, 2, "flag needs an argument: --model"},
		{[]string{"summary", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"summary", "--model", "mlp", "extra"}, 2, "takes no arguments"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	} {
		code, _, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
		if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine") {
			t.Errorf("%v: stderr has a trace: %q", c.args, errs)
		}
		if first := strings.SplitN(errs, "\n", 2)[0]; !strings.HasPrefix(first, "convgraph: ") {
			t.Errorf("%v: first line %q", c.args, first)
		}
	}
}
