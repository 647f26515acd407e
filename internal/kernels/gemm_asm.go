package kernels

// initAsm registers the assembly SGEMM when the CPU supports it (not yet written).
func initAsm() {}
