// Package preprocess turns raw images into a model's input: the preprocessing record
// stored with every convgraph model, and the one code path that applies it, shared by
// nn's Predict methods for images, bytes and files, the CLI's predict and the serve
// package.
//
// # Overview
//
// A [Config] says what a model expects: the scaling (Scale·p + Offset, 1/255 by default)
// and optional per-channel Mean and Std, the input size and channel count, the rule that
// brings other sizes to it ([Fit], the default, keeps the aspect ratio and pads with the
// image's background colour; [Stretch] does not), and the [Background] of the training
// images (Fashion-MNIST: [Dark], a light object on black). nn stores it in a model's spec,
// so checkpoints and JSON specs carry it, and onnx writes it as an exported file's
// "preprocessing" property in the same JSON.
//
// [Config.File], [Config.Decode] and [Config.Image] read a PNG or JPEG file, encoded
// bytes or an image.Image. Each reads the background from the image's border first and,
// when it is the opposite of the training images' (a product photo, a dark object on
// white, for a Fashion-MNIST model), inverts the image ([InvertAuto]) and says so in its
// [Report]; [WithInvert] forces or forbids the inversion.
//
// The package imports nothing else of convgraph's but internal/limits, whose image
// limits it applies to every header before a pixel is decoded.
//
// # Errors
//
// Every error names the image (its file or the name the caller gave) or the field of the
// config that is wrong. A config is checked by [Config.ForInput] and [Config.Validate];
// the methods on a config that fails them return that error.
package preprocess
