// Package zoo is convgraph's registry of named models: the course's CNN for
// Fashion-MNIST ("fashion-cnn"), its dense network ("mlp") and logistic regression
// ("logreg"), and AlexNet-style and ResNet-style networks with pretrained weights.
//
// # Overview
//
// [New] builds a registered model by name with [Option]s for the input shape and the
// number of classes; [List] describes every model. Packages add models with [Register],
// the way image formats register with image.RegisterFormat.
//
// [Pretrained] loads the shipped Fashion-MNIST weights (28x28 gray) into a model of any
// options and reports what it did: a first convolution for another number of input
// channels is adapted by timm's adapt_input_conv rule (the kernel repeated over the new
// channels and scaled by old/new channels, so a gray image fed as RGB gives the gray
// prediction); a parameter whose shape depends on the image size (a Dense after
// Flatten) keeps its fresh initialization and is reported as skipped, with the reason.
//
// # Errors
//
// An unknown name is an error that lists the known ones; a bad option is an error naming
// the model and the option.
package zoo
