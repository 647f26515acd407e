#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU) and prints one JSON object.
//
//   node tools/ort/run.js MODEL.onnx INPUT.f32 N,H,W,C [INPUT2.f32 SHAPE2 ...] [--threads T] [--bench ITERS] [--seconds S]
//
// INPUT.f32 holds an input as little-endian float32 values in the given shape; a model
// with several inputs takes one file and shape each, in the model's input order. The JSON
// has the model's input and output names, the first output's shape and values, and every
// output's ("all": [{name, shape, values}]); with
// --bench it has "ms" instead of the values: the times of ITERS runs after two warm-up
// runs, or of as many more as --seconds S needs. Errors go to stderr, exit status 1.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const args = process.argv.slice(2);
  let threads = 0, bench = 0, seconds = 0;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--threads') threads = parseInt(args[++i], 10);
    else if (args[i] === '--bench') bench = parseInt(args[++i], 10);
    else if (args[i] === '--seconds') seconds = parseFloat(args[++i]);
    else pos.push(args[i]);
  }
  if (pos.length < 3 || pos.length % 2 !== 1) {
    throw new Error('usage: run.js MODEL.onnx INPUT.f32 N,H,W,C [INPUT2.f32 SHAPE2 ...] [--threads T] [--bench ITERS] [--seconds S]');
  }
  const model = pos[0];
  const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  if (threads > 0) {
    opts.intraOpNumThreads = threads;
    opts.interOpNumThreads = 1;
  }
  const session = await ort.InferenceSession.create(model, opts);
  const feeds = {};
  for (let i = 1; i < pos.length; i += 2) {
    const name = session.inputNames[(i - 1) / 2];
    if (name === undefined) throw new Error('more inputs given than the model has');
    const buf = fs.readFileSync(pos[i]);
    const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    feeds[name] = new ort.Tensor('float32', x, pos[i + 1].split(',').map((s) => parseInt(s, 10)));
  }
  const out = { inputs: session.inputNames, outputs: session.outputNames };
  if (bench > 0) {
    for (let i = 0; i < 2; i++) await session.run(feeds);
    out.ms = [];
    let total = 0;
    for (let i = 0; i < bench || total < seconds * 1000; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      out.ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      total += out.ms[out.ms.length - 1];
    }
  } else {
    const res = await session.run(feeds);
    const y = res[session.outputNames[0]];
    out.shape = y.dims;
    out.values = Array.from(y.data);
    out.all = session.outputNames.map((name) => ({ name, shape: res[name].dims, values: Array.from(res[name].data) }));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write('ort: ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(1);
});
