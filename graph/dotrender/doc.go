// Package dotrender turns DOT source (from [github.com/convgraph/convgraph/graph.DOT] or
// the nn package's DOT methods) into SVG or PNG pictures, on machines with or without
// Graphviz installed.
//
// # Overview
//
// [Render] lays a graph out and draws it in a [Format] chosen by [FormatOf] from a file
// name. The [Engine] says which Graphviz does the work: [System] runs the `dot` program
// (Debian's graphviz package), [Go] runs Graphviz compiled to WebAssembly inside this
// process (github.com/goccy/go-graphviz, executed by the pure-Go wazero runtime: no cgo,
// no files needed), and [Auto] uses `dot` when it is on PATH and Go otherwise. With Go, the
// SVG is Graphviz's own; the PNG is drawn by this package from Graphviz's layout (its
// json output) with gonum's rasteriser and the Liberation fonts, because go-graphviz's
// PNG renderer loses edges and cluster borders.
//
// It lives apart from package graph because go-graphviz compiles its WebAssembly module
// when the program starts (about 0.5 s the first time, 0.1 s with the compilation cache it
// keeps in the temporary directory): only programs that render pay for it.
//
// # Errors
//
// Errors name what failed: "dotrender: dot -Tpng: syntax error in line 3 near '->'",
// "dotrender: unknown output format ".jpg" of "net.jpg" (want .dot, .gv, .svg or .png)".
// The Go engine turns panics inside go-graphviz into errors.
package dotrender
