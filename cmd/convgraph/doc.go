// Command convgraph trains, evaluates and inspects convgraph models from the shell.
//
// Usage:
//
//	convgraph summary --model fashion-cnn
//
// The commands and flags are a contract that scripts rely on; docs/cli.md lists them.
// Exit status is 0 on success, 1 on a runtime error and 2 on bad usage; errors are one
// line on stderr, never a stack trace.
package main
