// Package data reads image classification data sets for convgraph: the IDX
// files of Fashion-MNIST and MNIST, folders of PNG and JPEG images, and a
// small sample of both bundled in the binary. It turns them into batches of
// normalised float32 in NHWC order, shuffled and augmented with seeds.
//
// # Overview
//
// A [Dataset] holds N labelled images of one size as raw bytes in NHWC order
// (Keras's channels-last layout: Fashion-MNIST is N×28×28×1), the class names
// and where it came from. Datasets come from
//
//   - [Load]: a named data set ([FashionMNIST], [MNIST], or any added with
//     [Register]) as a [Split] of training and test parts, looked up on disk
//     in a fixed order and downloaded with checksum verification if it is
//     nowhere (see Load and docs/data.md);
//   - [Sample]: the bundled sample, 2,000 training and 500 test images of
//     each built-in set, for tests and for a first run with nothing
//     installed; its Datasets have Sample set and [Split.Notice] says so;
//   - [ImageFolder]: root/<class>/<image>.png|.jpg|.jpeg, resized and
//     converted to the channels asked for;
//   - [ReadIDXDataset] and [New]: a pair of IDX files, or bytes in memory.
//
// [Dataset.Take] draws a class-balanced subset (a --train-limit),
// [Dataset.ValidationSplit] a stratified validation set, and [Dataset.Subset]
// any subset. [Dataset.Batches] iterates in batches whose X is ready for a
// model, with [Shuffle], [RandomFlip] and [RandomShift] driven by one [Seed]:
// the same seed gives the same batches on every machine. Pixels become
// float32 only per batch ([Normalization], p/255 by default), which keeps a
// data set at a quarter of its float32 size.
//
// The package imports nothing else of convgraph's but internal/limits, whose file
// check every reader uses and whose memory budget bounds what a file may ask for.
//
// # Errors
//
// Every error caused by a file, a folder or a download names it:
//
//	data: t10k-labels-idx1-ubyte.gz: 9999 labels but 10000 images in t10k-images-idx3-ubyte.gz
//
// IDX files are checked for their magic number, dimensions, length (a
// truncated file, raw or gzipped, is an error and never a panic; so are
// trailing bytes and a bad gzip checksum) and for image and label counts
// that agree. When Load finds a set nowhere it returns a *[NotFoundError]
// whose one-line message lists every place tried and how to fix it. A
// download is written to a temporary file and renamed into the cache only
// once its SHA-256 matches, so the cache never holds a partial file.
//
// Methods panic only on programmer errors, which their comments name: an
// index out of range, a batch size below 1.
package data
