package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/internal/limits"
)

// usageError marks a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes the command line args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	out := &checkedWriter{w: stdout}
	root := newRoot(out, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil && out.err != nil {
		err = fmt.Errorf("cannot write the output: %v", unwrapPath(out.err))
	}
	if err == nil {
		return 0
	}
	msg := commandPrefix(cmd, strings.ReplaceAll(err.Error(), "\n", " "))
	if !errors.As(err, new(exitError)) {
		fmt.Fprintf(stderr, "convgraph: %s\n", msg)
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		fmt.Fprintln(stderr, "Run 'convgraph --help' for usage.")
		return 2
	}
	return 1
}

// libraryPrefixes are the packages whose errors start with their own name ("train:
// checkpoint ..."): on the command line, the command that failed is named instead, so that
// eval's error does not read as if train had failed.
var libraryPrefixes = []string{"train", "nn", "preprocess", "graph", "data", "zoo", "onnx", "serve", "dotrender", "mpi", "kernels"}

// commandPrefix replaces a library package's prefix at the start of msg with the name of
// the command that ran ("viz filters: checkpoint ..."), and drops the prefixes of library
// errors that the CLI wrapped in a flag or a step ("--resume: train: checkpoint ..."
// becomes "--resume: checkpoint ..."), so that every message names each place once.
func commandPrefix(cmd *cobra.Command, msg string) string {
	parts := strings.Split(msg, ": ")
	if cmd != nil && cmd.HasParent() && strings.HasPrefix(parts[0], "checkpoint ") {
		// The checkpoint package names the file, not itself ("checkpoint \"m.safetensors\": ..."):
		// the command that read it goes first.
		return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ") + ": " + msg
	}
	var kept []string
	for i, p := range parts {
		if i < len(parts)-1 && slices.Contains(libraryPrefixes, p) {
			switch {
			case i > 0:
				continue // named by what wraps it
			case cmd != nil && cmd.HasParent():
				p = strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
			}
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, ": ")
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "convgraph",
		Short:         "Train, evaluate and inspect convolutional networks built on Gorgonia",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	var memLimit string
	root.PersistentFlags().StringVar(&memLimit, "memory-limit", "",
		"memory budget for data sets, checkpoints and compiled graphs, e.g. 4GiB (default: $"+limits.MemoryEnv+", else half the machine's memory)")
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		limits.SetMemory(0)
		if _, err := limits.MemoryFromEnv(); err != nil {
			return usageError{err}
		}
		if memLimit != "" {
			n, err := limits.ParseBytes(memLimit)
			if err != nil {
				return usagef("--memory-limit: %v", err)
			}
			limits.SetMemory(n)
		}
		return nil
	}
	root.AddCommand(newSummary(), newTrain(), newEval(), newPredict(), newZoo(), newFinetune())
	root.AddCommand(newDot(), newViz())
	root.AddCommand(newBench())
	root.AddCommand(newExport(), newImport())
	root.AddCommand(newServe())
	return root
}

// noArgs rejects positional arguments as a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", c.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

func newSummary() *cobra.Command {
	var mf modelFlags
	c := &cobra.Command{
		Use:   "summary --model NAME | --checkpoint FILE",
		Short: "Print a Keras-style summary of a model: layers, output shapes, parameter counts",
		Args:  noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			m, err := mf.load("summary")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(c.OutOrStdout(), "%sPreprocessing: %s\n", m.Summary(), m.Preprocessing())
			return err
		},
	}
	mf.add(c, true)
	return c
}
