package serve

import (
	"net"

	"github.com/pkg/errors"
)

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	return ln, errors.Wrapf(err, "serve: listening on %s", addr)
}
