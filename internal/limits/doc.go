// Package limits holds the resource limits every convgraph reader and command shares:
// the memory budget (how many bytes a data set, a checkpoint or a compiled graph may
// ask for) and the checks made on a file before a byte of it is read.
//
// # Overview
//
// [Memory] is the budget: by default half of the machine's memory (the smaller of
// /proc/meminfo's MemTotal and the cgroup's limit), overridden by [SetMemory] (the
// CLI's --memory-limit) or the environment variable CONVGRAPH_MEMORY_LIMIT ([MemoryEnv]).
// [CheckMemory] compares a need with it and returns a *[MemoryError] that says how much
// was needed, for what, and how to raise the limit.
//
// [Open] and [ReadFile] accept only regular files (symbolic links are followed;
// directories, devices such as /dev/zero, named pipes and sockets are refused before
// they are opened for reading, so a pipe cannot block the process) no larger than a
// limit the caller gives for its format.
//
// The package imports nothing else of convgraph's; data, nn, train and the CLI use it.
//
// # Errors
//
// Errors name the file and what is wrong with it, without a package prefix: callers
// wrap them with theirs ("data: ", "checkpoint ...").
package limits
