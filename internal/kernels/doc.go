// Package kernels holds convgraph's plain compute: convolution, pooling, GEMM dispatch,
// normalisation, softmax and element-wise activations on flat []float32 or []float64
// slices. It knows nothing of Gorgonia, layers or models; package graph wraps each kernel
// in a Gorgonia op.
//
// # Layout
//
// Images are NCHW (batch, channels, height, width), row-major and contiguous.
// Convolution kernels are OIHW (filters, input channels, kernel height, kernel width), the
// layout PyTorch uses. Matrices are row-major.
//
// # Contracts
//
// Every function writes its whole output (outputs are overwritten, never accumulated into)
// and reads its inputs only. Sizes are the caller's job: the functions panic if a slice is
// shorter than its parameters say, because that is a programming error inside convgraph,
// never a user's input (package graph and nn check user-facing shapes first).
//
// Work is split over the batch across [runtime.GOMAXPROCS] goroutines where that pays,
// through [Parallel]'s pool of helper goroutines, and every kernel splits a batch the
// same way (the same images to the same goroutine), so each core reads what it wrote.
//
// # Compute paths
//
// GEMMs run on one of three paths ([Backend], [SetBackend], CONVGRAPH_BLAS): convgraph's
// assembly kernels (go+asm; the default on CPUs with AVX-512), OpenBLAS loaded at run time,
// or gonum. On the AVX-512 path, float32 convolutions with stride 1 are implicit GEMMs
// (the kernels read shifted rows of a padded image in place instead of an im2col copy),
// and ReLU, [Add], batch normalization, bias gradients and 2x2 max-pool gradients run in
// assembly too; everything else, and every other path, is Go.
//
// Every assembly function has a Go twin with the same signature and the same bits
// (twins.go: fused multiply-adds and sums in the assembly's order), which
// TestAsmKernelsMatchGoTwins compares with it. Builds for other architectures, or with the
// purego build tag on amd64, leave the assembly out; they have no go+asm path, and the
// twins stand in under the assembly's names. CONVGRAPH_ASM=avx2 makes the go+asm path use
// the AVX2 kernel on an AVX-512 CPU.
//
// The element-wise kernels' assembly (gen_elementwise_amd64.s) is generated with avo by
// the program in _asmgen (go generate; see gen.go); the GEMM kernels (gemm_asm_amd64.s)
// are hand-written.
package kernels
