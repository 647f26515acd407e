// Package train fits convgraph models to data: optimizers with state of their own,
// learning-rate schedules, the Fit loop with validation, callbacks and a progress display,
// Evaluate and Predict, training history, and checkpoints.
//
// # Overview
//
// [Fit] runs epochs of mini-batch training over a [data.Dataset] with an [Optimizer]
// ([SGD], [Adam], [RMSprop]) and an optional [Schedule]; it validates after every epoch
// and returns a [History]. [Evaluate] measures loss, accuracy, per-class accuracy and the
// confusion matrix; [Predict] returns class probabilities.
//
// Optimizer state (momenta, Adam's moments) is keyed by parameter name, not by position as
// Gorgonia's solvers do, so it survives freezing and unfreezing layers and goes into
// checkpoints.
//
// The same seed gives the same weights: initialization, shuffling, augmentation and
// dropout all draw from seeded generators.
//
// # Errors
//
// A NaN or infinite loss stops training with an error naming the epoch and batch.
// Cancelling the context stops after the current batch with [ErrInterrupted], and the
// History so far.
package train
