package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/internal/limits"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
	"github.com/convgraph/convgraph/train"
)

func newImport() *cobra.Command {
	var out, name string
	c := &cobra.Command{
		Use:   "import MODEL.onnx -o MODEL.safetensors [--name NAME]",
		Short: "Import an ONNX CNN (from PyTorch, tf2onnx or convgraph) as a trainable convgraph checkpoint",
		Long: `Import an ONNX model as a convgraph checkpoint that eval, predict, summary, dot,
finetune and export take like any other.

The imported model takes images as (height, width, channels), whatever the file's layout
(PyTorch's NCHW is transposed at the edge); layer names come from the file's node names
("/layer1/layer1.0/conv1/Conv" becomes "layer1/0/conv1"). An operator with no convgraph
layer is an error naming the node; docs/onnx.md lists the operators.`,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("import needs one MODEL.onnx, got %d arguments", len(args))
			}
			if out == "" {
				return usagef("import needs -o MODEL.safetensors")
			}
			// A regular file (not a pipe or /dev/zero) within protobuf's 2 GiB, whose
			// bytes, decoded messages and converted weights (about three times the
			// file) fit the memory budget, before a byte is read.
			f, size, err := limits.Open(args[0], onnx.MaxFileBytes)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := limits.CheckMemory(fmt.Sprintf("%s (%s, read and converted)", args[0], limits.FormatBytes(size)), 3*size, ""); err != nil {
				return err
			}
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0]))
			}
			m, info, err := onnx.Import(f, onnx.ModelName(name))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			extra := map[string]string{"onnx_source": filepath.Base(args[0]), "onnx_producer": info.Producer}
			if len(info.Classes) > 0 {
				extra["classes"] = classesJSON(info.Classes)
			}
			if err := train.Save(out, m, nil, train.Checkpoint{Seed: 1, Extra: extra}); err != nil {
				return err
			}
			params := 0
			for _, p := range m.Params() {
				params += p.Size()
			}
			fmt.Fprintf(c.ErrOrStderr(), "imported %s (%s, opset %d, input %s): model %q, %d layers, %d parameters, %s, %s\nwrote %s\n",
				args[0], info.Producer, info.Opset, strings.Join(info.InputLayouts, ", "), m.Name(), len(m.Layers()), params,
				portList("input", m.Inputs()), portList("output", m.Outputs()), out)
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "the checkpoint to write (model.safetensors)")
	c.Flags().StringVar(&name, "name", "", "the model's name (default: the file's base name)")
	return c
}

// portList describes a model's inputs or outputs: "input (None, 28, 28, 1)" for one,
// "inputs input (None, 8, 8, 1), input_1 (None, 3)" for several.
func portList(what string, ps []nn.Port) string {
	if len(ps) == 1 {
		return what + " " + ps[0].Shape.String()
	}
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Name+" "+p.Shape.String())
	}
	return what + "s " + strings.Join(parts, ", ")
}
