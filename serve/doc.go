// Package serve is convgraph's HTTP inference service: models answer predictions as
// JSON for images (PNG or JPEG, a raw body or multipart) and JSON tensors.
//
// # Overview
//
// [New] takes one or more [Model]s, each an [nn.Predictor] (a snapshot of a model, safe
// for concurrent use) with its class names, and returns a [Server] whose
// [Server.Handler] serves the routes docs/serving.md lists: POST
// /v1/models/{name}/predict, GET /v1/models, GET /healthz, GET /readyz, GET /metrics
// (Prometheus) and a web page at /. [Server.Run] listens and shuts down gracefully when
// its context ends.
//
// # Batching
//
// Requests for one model go to a queue; each of [Config.Workers] workers takes the first
// waiting request and every request already queued, up to [Config.MaxBatch] images. If
// another worker is computing, it keeps taking requests until the batch is full or
// [Config.MaxWait] has passed (the cores are busy anyway, and one bigger batch uses them
// better than two small ones); if not, it runs at once, so a request that arrives alone
// is not delayed. It runs the batch and gives each request its rows.
// An image's result does not depend on the batch it ran in on the go+asm and gonum
// compute paths (with OpenBLAS, the last bits may).
//
// # Errors
//
// Every bad request gets a 4xx status and a JSON body {"error": "..."} of one line that
// says what was wrong and what the limit is: an unknown model (404), a body or image over
// its limit (413), an unknown content type (415), an image that does not decode, a
// tensor of the wrong shape (400), a client too slow to send its body (408). A full
// queue or an answer not ready within [Config.Timeout] is 503 with Retry-After. No
// request, however crafted, ends the process: a panic in a handler is a 500.
package serve
