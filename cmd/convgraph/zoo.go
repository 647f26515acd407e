package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/convgraph/convgraph/internal/console"
	"github.com/convgraph/convgraph/zoo"
)

func newZoo() *cobra.Command {
	// Runnable, so that an unknown subcommand ("zoo lst") is a usage error, not help and
	// exit status 0.
	c := &cobra.Command{Use: "zoo", Short: "The model zoo", Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() }}
	var jsonOut bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the zoo's models with their parameter counts and pretrained accuracy",
		Args:  noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			type row struct {
				Name        string   `json:"name"`
				Params      int      `json:"params"`
				Accuracy    *float64 `json:"pretrained_test_accuracy"`
				Description string   `json:"description"`
			}
			var rows []row
			for _, info := range zoo.List() {
				m, err := zoo.New(info.Name)
				if err != nil {
					return err
				}
				total, _, _ := m.ParamCounts()
				r := row{Name: info.Name, Params: total, Description: info.Description}
				if acc, ok := zoo.PretrainedAccuracy(info.Name); ok {
					r.Accuracy = &acc
				}
				rows = append(rows, r)
			}
			if jsonOut {
				return json.NewEncoder(c.OutOrStdout()).Encode(rows)
			}
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "MODEL\tPARAMS\tPRETRAINED (Fashion-MNIST test accuracy)\tDESCRIPTION")
			for _, r := range rows {
				acc := "-"
				if r.Accuracy != nil {
					acc = fmt.Sprintf("%.4f", *r.Accuracy)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Name, console.Commas(r.Params), acc, r.Description)
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	c.AddCommand(list)
	return c
}
