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
// # Errors
//
// An unknown name is an error that lists the known ones; a bad option is an error naming
// the model and the option.
package zoo
