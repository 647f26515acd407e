// Package testenv lets tests depend on things outside the repository (Debian packages,
// files in the Go module cache, npm packages, programs on PATH) without turning silently
// green where those things are missing.
//
// # Overview
//
// A test that needs something the machine may lack calls [Require] instead of t.Skip.
// Normally a missing requirement skips the test with the reason. With the environment
// variable CONVGRAPH_STRICT set to 1, as `.ci/run` sets it, a missing requirement fails the
// test instead, so a CI machine whose install step broke cannot pass by skipping.
//
// Skips that are about the hardware (no AVX-512 on this CPU) or about the run's mode
// (-short, the race detector) are not requirements and keep using t.Skip.
//
// # Errors
//
// [ModCache] returns an empty string when the Go toolchain cannot say where the module
// cache is; [Require] then reports the module as missing.
package testenv
