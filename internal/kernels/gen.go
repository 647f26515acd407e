package kernels

// The AVX-512 element-wise kernels in gen_elementwise_amd64.s are written by the avo
// program in _asmgen, a module of its own so that avo is a dependency of the generator
// only. After changing it, run `go generate ./internal/kernels`; .ci/run fails when the
// committed file differs from what the generator writes.
//go:generate sh -c "cd _asmgen && go run . -out ../gen_elementwise_amd64.s"
