package dotrender_test

import (
	"bytes"
	"fmt"
	"image/png"

	"github.com/convgraph/convgraph/graph/dotrender"
)

// Draw a DOT graph as a PNG with the built-in renderer, which needs no Graphviz on the
// machine (dotrender.Auto would use Graphviz's dot when it is installed).
func ExampleRender() {
	src := []byte(`digraph G { input -> conv2d -> dense }`)
	format, err := dotrender.FormatOf("model.png")
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := dotrender.Render(src, format, dotrender.Go)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(format, img.Bounds().Dx() < img.Bounds().Dy())
	// Output: png true
}

func ExampleFormatOf() {
	for _, name := range []string{"net.svg", "net.PNG", "net.gv", "net.jpg"} {
		f, err := dotrender.FormatOf(name)
		fmt.Printf("%q %v\n", f, err)
	}
	// Output:
	// "svg" <nil>
	// "png" <nil>
	// "dot" <nil>
	// "" dotrender: unknown output format ".jpg" of "net.jpg" (want .dot, .gv, .svg or .png)
}
