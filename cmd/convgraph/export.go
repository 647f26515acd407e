package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/data"
	"github.com/convgraph/convgraph/nn"
	"github.com/convgraph/convgraph/onnx"
	"github.com/convgraph/convgraph/train"
)

func newExport() *cobra.Command {
	var (
		mf  modelFlags
		out string
	)
	c := &cobra.Command{
		Use:   "export --checkpoint FILE | --model NAME --pretrained -o MODEL.onnx",
		Short: "Export a model to ONNX, for ONNX Runtime, Triton, TensorRT or OpenVINO",
		Long: `Export a checkpoint, or a zoo model with its shipped weights, as an ONNX file
(IR version 8, operator set 13).

The input is "input", [N, height, width, channels] float32 with pixels scaled to [0, 1]
(value/255), N any batch size; the output is "output", [N, classes]. The class names and
the preprocessing travel in the file's metadata properties ("classes", "preprocessing").
docs/onnx.md shows how to run the file from Python, Node and C++.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return usagef("export needs -o MODEL.onnx")
			}
			if mf.model != "" && !mf.pretrained {
				return usagef("export --model %s needs --pretrained (an untrained model's weights are random)", mf.model)
			}
			var (
				m       *nn.Model
				classes []string
			)
			if mf.checkpoint != "" && mf.model == "" && !mf.pretrained {
				saved, err := train.Load(mf.checkpoint)
				if err != nil {
					return err
				}
				m, classes = saved.Model, savedClasses(saved.Extra)
			} else {
				var err error
				if m, err = mf.load("export"); err != nil {
					return err
				}
				classes = savedClasses(map[string]string{"dataset": data.FashionMNIST}) // the zoo's weights
			}
			opts := []onnx.ExportOption{onnx.Description(fmt.Sprintf("convgraph model %q", m.Name()))}
			if o := m.OutputShape(); len(classes) > 0 && len(o) == 1 && o[0] == len(classes) {
				opts = append(opts, onnx.ClassNames(classes))
			}
			var buf bytes.Buffer
			if err := onnx.Export(m, &buf, opts...); err != nil {
				return err
			}
			if err := writeOutput(c, out, buf.Bytes()); err != nil {
				return err
			}
			if out != "-" {
				fmt.Fprintf(c.ErrOrStderr(), "wrote %s: model %q, input %v, output %v, %d bytes\n",
					out, m.Name(), onnxShape(m.InputShape()), onnxShape(m.OutputShape()), buf.Len())
			}
			return nil
		},
	}
	mf.add(c, true)
	c.Flags().StringVarP(&out, "output", "o", "", "the ONNX file to write (- for stdout)")
	return c
}

// onnxShape prints an example shape with the symbolic batch first: [N, 28, 28, 1].
func onnxShape(s nn.Shape) string {
	parts := []string{"N"}
	for _, d := range s {
		parts = append(parts, fmt.Sprint(d))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
