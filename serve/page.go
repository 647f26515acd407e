package serve

import (
	_ "embed"
	"net/http"

	"gorgonia.org/tensor"

	"github.com/convgraph/convgraph/nn"
)

// pageHTML is the root page: upload or draw an image, see the top-5 classes as bars and
// the first convolution's feature maps. Plain HTML and JavaScript, embedded: no build step.
//
//go:embed page.html
var pageHTML []byte

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data: blob:")
	_, _ = w.Write(pageHTML)
}

func tensorOf(x []float32, shape nn.Shape) *tensor.Dense {
	return tensor.New(tensor.WithShape(append([]int{len(x) / shape.Size()}, shape...)...), tensor.WithBacking(x))
}
