// Package checkpoint reads and writes convgraph's weight files: safetensors files (the
// format PyTorch and Hugging Face read) holding a model's parameters under their path
// names ("block1/conv1/kernel") and its spec in the header, so a file alone rebuilds its
// model.
//
// # Overview
//
// [LoadWeights] copies a file's weights into a model of the same architecture;
// [LoadWeightsPartial] copies those whose name and shape match and returns a [Report]
// (transfer learning: a new head keeps its fresh weights). [Write] and [Read] handle the
// whole file: the model, free-form header metadata and extra float64 tensors (an
// optimizer's state). Package train builds its resumable run checkpoints on them (its
// Save and Load add the optimizer, the epoch and the history), and package zoo loads its
// pretrained weights with [LoadWeightsPartialBytes], so the model registry does not
// depend on the training loop.
//
// Writes are atomic ([Write], [WriteFileAtomic]): a temporary file in the same directory,
// synced and renamed over the target, so a crash leaves the old file or the new one,
// never half of one.
//
// # Errors
//
// Errors name the file and what is wrong with it: a parameter that is missing or of
// another shape (with both shapes), a value that is not finite in the model's dtype, a
// negative moving variance, optimizer state that belongs to no parameter. Files are read
// only if they are regular files that fit the memory budget (see internal/limits), and a
// crafted file is an error, never a panic.
package checkpoint
