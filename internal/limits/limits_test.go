package limits

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "a.bin")
	if err := os.WriteFile(regular, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "x.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		path string
		max  int64
		want string // "" for success
	}{
		{regular, 0, ""},
		{regular, 100, ""},
		{link("ok.bin", regular), 100, ""},
		{regular, 99, "file of 100 B is larger than the limit of 99 B"},
		{dir, 0, "is a directory"},
		{fifo, 0, "is a named pipe"},
		{link("fifo.png", fifo), 0, "is a named pipe"},
		{"/dev/zero", 0, "is a device"},
		{link("zero.png", "/dev/zero"), 0, "is a device"},
		{filepath.Join(dir, "missing"), 0, "open " + filepath.Join(dir, "missing") + ": no such file"},
		{link("broken", filepath.Join(dir, "nowhere")), 0, "no such file"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() {
			_, err := ReadFile(c.path, c.max)
			done <- err
		}()
		select {
		case err := <-done:
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s: %v", c.path, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("%s: error %v, want %q", c.path, err, c.want)
			case c.want != "" && !strings.HasPrefix(err.Error(), c.path) && !strings.HasPrefix(err.Error(), "open "):
				t.Errorf("%s: error %q does not start with the path", c.path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ReadFile blocked", c.path)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "4GiB": 4 << 30, "512MB": 512e6, "1.5g": 1.5e9, " 2 kib ": 2048, "7b": 7} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1GiB", "abc", "NaN", "Inf", "1e30", "GiB", "0.1"} {
		if n, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", in, n)
		}
	}
}

func TestMemoryBudget(t *testing.T) {
	t.Setenv(MemoryEnv, "")
	if Memory() <= 0 {
		t.Fatalf("default budget %d", Memory())
	}
	t.Setenv(MemoryEnv, "3MiB")
	if got := Memory(); got != 3<<20 {
		t.Errorf("with $%s=3MiB: %d", MemoryEnv, got)
	}
	SetMemory(5 << 20)
	defer SetMemory(0)
	if got := Memory(); got != 5<<20 || Source() != "--memory-limit" {
		t.Errorf("after SetMemory: %d from %s", got, Source())
	}
	err := CheckMemory(`model "m" at batch 8`, 6<<20, `layer "conv" dominates`)
	var me *MemoryError
	if !errors.As(err, &me) {
		t.Fatalf("CheckMemory over the budget: %v", err)
	}
	for _, want := range []string{`model "m" at batch 8 needs 6.0 MiB`, "limit of 5.0 MiB (--memory-limit)", `layer "conv" dominates`, MemoryEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if err := CheckMemory("x", 5<<20, ""); err != nil {
		t.Errorf("at the budget: %v", err)
	}
}

func TestNamedNamesTheFileOnce(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.bin")
	_, _, err := Open(dir, 0)
	if got, want := Named("train: checkpoint", err).Error(), `train: checkpoint "`+dir+`": is a directory, not a file`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = ReadFile(missing, 0)
	named := Named("train: checkpoint", err)
	if got, want := named.Error(), `train: checkpoint "`+missing+`": no such file or directory`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(named, os.ErrNotExist) {
		t.Errorf("%v does not unwrap to os.ErrNotExist", named)
	}
	if Named("x", nil) != nil {
		t.Error("Named of nil is not nil")
	}
}
