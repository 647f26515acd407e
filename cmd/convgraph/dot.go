package main

import (
	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/graph"
	"github.com/convgraph/convgraph/graph/dotrender"
	"github.com/convgraph/convgraph/nn"
)

func parseEngine(s string) (dotrender.Engine, error) {
	switch s {
	case "auto", "":
		return dotrender.Auto, nil
	case "dot":
		return dotrender.System, nil
	case "go":
		return dotrender.Go, nil
	}
	return 0, usagef("--renderer %q is not auto, dot or go", s)
}

func newDot() *cobra.Command {
	var (
		mf                    modelFlags
		view, rankdir, out    string
		renderer, mode        string
		grads, collapse       bool
		batch                 int
		showDType, showTrain  bool
		hideShapes, hideNames bool
		hideParams            bool
	)
	c := &cobra.Command{
		Use:   "dot --model NAME|--checkpoint FILE [--view layers|ops] [-o FILE.dot|.svg|.png]",
		Short: "Draw a model's layers, or its compiled graph's operations, as DOT, SVG or PNG",
		Long: `Draw a model as a diagram.

--view layers (the default) draws one node per layer, as Keras's plot_model does: name,
type, output shape and parameter count; frozen layers grey and dashed; nested blocks as
clusters (--collapse draws each top-level block as one node); shortcut edges in blue.
--view ops draws the Gorgonia graph compiled for --batch and --mode: every operation,
clustered by layer, parameters green, inputs yellow; --grads adds the backward pass.

The output format follows -o's extension: .dot (or .gv), .svg or .png; without -o (or
with -o -) the DOT goes to stdout. SVG and PNG are drawn by Graphviz's dot when it is on
PATH, and by Graphviz compiled to WebAssembly, inside convgraph, otherwise (--renderer).`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			format := dotrender.DOT
			if out != "" && out != "-" {
				var err error
				if format, err = dotrender.FormatOf(out); err != nil {
					return usageError{err}
				}
			}
			engine, err := parseEngine(renderer)
			if err != nil {
				return err
			}
			if rankdir != "TB" && rankdir != "LR" {
				return usagef("--rankdir %q is not TB or LR", rankdir)
			}
			switch view {
			case "layers":
				for _, f := range []string{"grads", "batch", "mode"} {
					if c.Flags().Changed(f) {
						return usagef("--%s goes with --view ops", f)
					}
				}
			case "ops":
				for _, f := range []string{"collapse", "show-dtype", "show-trainable", "hide-shapes", "hide-layer-names", "hide-params"} {
					if c.Flags().Changed(f) {
						return usagef("--%s goes with --view layers", f)
					}
				}
				if batch <= 0 {
					return usagef("--batch %d must be positive", batch)
				}
				if mode != "train" && mode != "eval" {
					return usagef("--mode %q is not train or eval", mode)
				}
				if grads && mode != "train" {
					return usagef("--grads needs --mode train (an eval graph has no backward pass)")
				}
			default:
				return usagef("--view %q is not layers or ops", view)
			}
			m, err := mf.load("dot")
			if err != nil {
				return err
			}
			var src []byte
			if view == "layers" {
				src, err = m.DOT(nn.DOTConfig{RankDir: rankdir, Collapse: collapse, ShowDType: showDType,
					ShowTrainable: showTrain, HideShapes: hideShapes, HideLayerNames: hideNames, HideParams: hideParams})
			} else {
				md := nn.Eval
				if mode == "train" {
					md = nn.Train
				}
				var gr *nn.Graph
				if gr, err = m.Compile(batch, md); err != nil {
					return err
				}
				src, err = gr.DOT(graph.DOTConfig{RankDir: rankdir, Grads: grads})
			}
			if err != nil {
				return err
			}
			data, err := dotrender.Render(src, format, engine)
			if err != nil {
				return err
			}
			return writeOutput(c, out, data)
		},
	}
	mf.add(c, false)
	f := c.Flags()
	f.StringVarP(&out, "output", "o", "", "output file: .dot, .gv, .svg or .png (default: DOT on stdout)")
	f.StringVar(&view, "view", "layers", "layers (one node per layer) or ops (the compiled graph's operations)")
	f.StringVar(&rankdir, "rankdir", "TB", "layout direction: TB (top to bottom) or LR (left to right)")
	f.StringVar(&renderer, "renderer", "auto", "for .svg and .png: dot (Graphviz's program), go (built in), or auto (dot if installed)")
	f.BoolVar(&collapse, "collapse", false, "layers: draw each top-level block as one node")
	f.BoolVar(&showDType, "show-dtype", false, "layers: add the parameters' element type")
	f.BoolVar(&showTrain, "show-trainable", false, "layers: say which layers are trainable or frozen")
	f.BoolVar(&hideShapes, "hide-shapes", false, "layers: leave out output shapes")
	f.BoolVar(&hideNames, "hide-layer-names", false, "layers: leave out layer names")
	f.BoolVar(&hideParams, "hide-params", false, "layers: leave out parameter counts")
	f.BoolVar(&grads, "grads", false, "ops: draw the backward pass too")
	f.IntVar(&batch, "batch", 1, "ops: batch size the graph is compiled for")
	f.StringVar(&mode, "mode", "train", "ops: train or eval graph")
	return c
}
