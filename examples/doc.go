// Package examples holds complete programs that use convgraph's public packages the way
// a user would; each folder is one program (package main) whose test builds and runs it
// briefly. See docs/writing-models.md for the code explained beside its Keras equivalent.
//
//   - twoheads: a model with two inputs (an image and metadata) and two outputs (a class
//     and a value), each with its own loss and weight, trained on in-memory tensors.
//   - backbone: the zoo's pretrained network, without its head, used as one layer of a
//     new model and fine-tuned in two phases on a folder of images.
//   - customloop: a training loop written by hand on the compiled graph.
//   - regression: a CNN that predicts a continuous quantity of an image (how much of it
//     the garment covers), trained with a custom log-cosh loss written as a Gorgonia
//     expression.
package examples
