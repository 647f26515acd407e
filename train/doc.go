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
// # Data parallelism
//
// With [Config.Comm] set (for an mpirun job, from [MPI]), Fit runs on every rank of the
// job: each rank trains on its share of every global batch of Size()·BatchSize images,
// the gradients are averaged with one all-reduce per step, and every rank applies the same
// update. Rank 0's parameters and optimizer state are broadcast at the start; batch-norm
// moving statistics are averaged at each epoch's end; validation is split over the ranks
// ([EvaluateDistributed]); only rank 0 shows progress and runs [ModelCheckpoint]. Two
// ranks with batch b train the weights one process trains with batch 2b, up to float32
// rounding, for models without batch normalisation or dropout (docs/distributed.md).
//
// # Errors
//
// A NaN or infinite loss stops training with an error naming the epoch and batch.
// Cancelling the context stops after the current batch with [ErrInterrupted], and the
// History so far. In a data-parallel Fit a failure or an interruption on one rank reaches
// every rank through the step's all-reduce, so all of them stop after the same step (the
// others with an error that says another rank failed); a rank that dies ends the MPI job.
package train
