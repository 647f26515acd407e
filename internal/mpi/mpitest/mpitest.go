// Package mpitest runs a test binary's own code as the ranks of a real mpirun job: a test
// calls [Run], which starts mpirun on the test binary itself with [RoleEnv] set; the
// binary's TestMain sees the variable and runs that role instead of the tests ([Child]).
package mpitest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/convgraph/convgraph/internal/testenv"
)

// RoleEnv holds the role a child process plays; it is unset in the test process itself.
const RoleEnv = "CONVGRAPH_MPI_TEST_ROLE"

// Child returns the role this process was started to play under mpirun, or "".
func Child() string { return os.Getenv(RoleEnv) }

// Result is a finished mpirun job.
type Result struct {
	Output string // stdout and stderr of mpirun and every rank, interleaved
	Err    error  // mpirun's exit status (nil when every rank exited 0)
	Took   time.Duration
}

// Mpirun returns mpirun's path; without Open MPI the test skips (fails with
// CONVGRAPH_STRICT=1, as in CI).
func Mpirun(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("mpirun")
	testenv.Require(t, err == nil, "mpirun not found: Debian's openmpi-bin is not installed")
	return p
}

// Args returns mpirun's arguments for np ranks on this machine: allowed as root (CI
// containers) and oversubscribed (more ranks than cores), every rank getting env.
func Args(np int, env ...string) []string {
	args := []string{"--allow-run-as-root", "--oversubscribe", "-np", fmt.Sprint(np)}
	for _, e := range env {
		args = append(args, "-x", e)
	}
	return args
}

// Run starts np copies of the running test binary under mpirun, each with RoleEnv=role
// and the extra environment env ("NAME=value"), and waits at most timeout: a job still
// running then is killed and reported as hung.
func Run(t testing.TB, np int, role string, timeout time.Duration, env ...string) Result {
	t.Helper()
	mpirun := Mpirun(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env = append([]string{RoleEnv + "=" + role}, env...)
	return Command(t, mpirun, append(Args(np, env...), exe), timeout)
}

// Command runs mpirun (or any command) with args and a timeout, and returns its result.
func Command(t testing.TB, name string, args []string, timeout time.Duration) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	r := Result{Output: out.String(), Err: err, Took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after %v (hung); output:\n%s", name, strings.Join(args, " "), timeout, r.Output)
	}
	return r
}

var roles = map[string]func() int{}

// Register names a role that [RunChild] can play; call it from an init function of the
// test package (so that TestMain, which runs after every init, finds it).
func Register(role string, play func() int) { roles[role] = play }

// RunChild plays the role this process was started for and returns its exit code; ok is
// false when the process is not a child (TestMain then runs the tests).
func RunChild() (code int, ok bool) {
	role := Child()
	if role == "" {
		return 0, false
	}
	play, found := roles[role]
	if !found {
		fmt.Fprintf(os.Stderr, "mpitest: no role %q registered\n", role)
		return 2, true
	}
	return play(), true
}
