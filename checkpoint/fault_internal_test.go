package checkpoint

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convgraph/convgraph/nn"
)

// faultModel is a dense network of 804,874 parameters: a 3.2 MB checkpoint, so that the
// temporary file is partly on disk while the last of it is still being written.
func faultModel(t *testing.T, seed uint64) *nn.Model {
	t.Helper()
	m, err := nn.Sequential("fault", nn.Input(784), nn.Dense(1024, nn.Activation(nn.ReLU)), nn.Dense(10, nn.Activation(nn.Softmax)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Initialize(seed); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSaveKillHelper is not a test: TestSIGKILLDuringSave runs the test binary with it, and
// it saves a checkpoint that stops at the step CONVGRAPH_KILL_STEP names, waiting there
// to be killed.
func TestSaveKillHelper(t *testing.T) {
	step, path := os.Getenv("CONVGRAPH_KILL_STEP"), os.Getenv("CONVGRAPH_KILL_PATH")
	if step == "" {
		t.Skip("a helper process for TestSIGKILLDuringSave")
	}
	writeStep = func(s, tmp string) {
		if s == step {
			fmt.Printf("stopped at %s %s\n", s, tmp)
			select {} // until SIGKILL
		}
	}
	if err := Write(path, faultModel(t, 2), map[string]string{"epoch": "2"}, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Println("saved without stopping")
}

// A process killed with SIGKILL at any step of writing a checkpoint (the temporary file
// just created, most of it written, all of it synced, renamed into place) leaves a
// checkpoint that loads: the previous one, byte for byte, until the rename; the new one,
// whole, after it. A later save in the same directory works despite the stale temporary
// file, and the loader never sees it.
func TestSIGKILLDuringSave(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process per step")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	old := faultModel(t, 1)
	if err := Write(path, old, map[string]string{"epoch": "1"}, nil); err != nil {
		t.Fatal(err)
	}
	oldBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"created", "written", "synced", "renamed"} {
		t.Run(step, func(t *testing.T) {
			if err := os.WriteFile(path, oldBytes, 0o644); err != nil {
				t.Fatal(err)
			}
			tmp := killAt(t, step, path)
			c, err := Read(path)
			if err != nil {
				t.Fatalf("after SIGKILL at %q the checkpoint does not load: %v", step, err)
			}
			now, _ := os.ReadFile(path)
			switch step {
			case "renamed":
				if epoch(c) != 2 || !sameWeights(c.Model, faultModel(t, 2)) {
					t.Errorf("after the rename: epoch %d; want the new checkpoint, whole", epoch(c))
				}
			default:
				if !bytes.Equal(now, oldBytes) || epoch(c) != 1 || !sameWeights(c.Model, old) {
					t.Errorf("the previous checkpoint changed")
				}
				st, err := os.Stat(tmp)
				if err != nil {
					t.Fatalf("the temporary file: %v", err)
				}
				if step == "written" && (st.Size() == 0 || st.Size() >= int64(len(oldBytes))) {
					t.Errorf("killed mid-write with %d of about %d bytes on disk; want a part", st.Size(), len(oldBytes))
				}
				t.Logf("killed at %q with %d bytes of the temporary file on disk", step, st.Size())
			}
		})
	}
	// The directory now holds stale temporary files; saving and loading still work, and a
	// save leaves recent temporary files (a write still in progress, for all it knows)
	// but removes abandoned ones.
	temps := func() []string {
		m, err := filepath.Glob(filepath.Join(dir, ".model.safetensors.tmp*"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	left := temps()
	if len(left) != 3 {
		t.Fatalf("%d temporary files after kills at 3 steps before the rename: %v", len(left), left)
	}
	other := filepath.Join(dir, ".other.safetensors.tmp123")
	if err := os.WriteFile(other, []byte("another file's write"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, old, map[string]string{"epoch": "3"}, nil); err != nil {
		t.Fatal(err)
	}
	if c, err := Read(path); err != nil || epoch(c) != 3 || !sameWeights(c.Model, old) {
		t.Fatalf("a save after the kills: %v", err)
	}
	if got := temps(); len(got) != 3 {
		t.Errorf("a save removed temporary files younger than staleTempAge: %d of 3 left", len(got))
	}
	defer func(age time.Duration) { staleTempAge = age }(staleTempAge)
	staleTempAge = 0
	if err := Write(path, old, map[string]string{"epoch": "4"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := temps(); len(got) != 0 {
		t.Errorf("stale temporary files left after a save: %v", got)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temporary file was removed: %v", err)
	}
	if c, err := Read(path); err != nil || epoch(c) != 4 {
		t.Fatalf("the save that cleaned up: %v", err)
	}
}

// killAt runs the helper until it stops at step, kills it with SIGKILL, and returns the
// temporary file it was writing.
func killAt(t *testing.T, step, path string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSaveKillHelper$")
	cmd.Env = append(os.Environ(), "CONVGRAPH_KILL_STEP="+step, "CONVGRAPH_KILL_PATH="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(out)
	var tmp string
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "stopped at "+step+" "); ok {
			tmp = rest
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if tmp == "" {
		t.Fatalf("the helper never reached %q", step)
	}
	return tmp
}

func sameWeights(a, b *nn.Model) bool {
	for _, p := range a.Params() {
		x, y := p.Value.Data().([]float32), b.Param(p.Name).Value.Data().([]float32)
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
	}
	return true
}

// epoch is the "epoch" a test wrote into a checkpoint's metadata.
func epoch(f *File) int {
	n, _ := strconv.Atoi(f.Meta["epoch"])
	return n
}
