//go:build !((linux || darwin || freebsd) && (amd64 || arm64))

package kernels

import "errors"

// OpenBLASEnv names an OpenBLAS shared library to load instead of searching the usual
// places (unused on this platform: purego cannot load libraries here).
const OpenBLASEnv = "CONVGRAPH_OPENBLAS"

var openBLASErr = errors.New("loading OpenBLAS at run time is not supported on this platform")

// OpenBLASLibrary returns the path of the loaded OpenBLAS library, or "" if none is.
func OpenBLASLibrary() string { return "" }

func loadOpenBLAS() {}

// OpenBLASCore names the kernels the loaded OpenBLAS uses, or "" if none is loaded.
func OpenBLASCore() string { return "" }
