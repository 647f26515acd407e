#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU) and prints one JSON object.
//
//   node tools/ort/run.js MODEL.onnx INPUT.f32 N,H,W,C [--threads T] [--bench ITERS] [--seconds S]
//
// INPUT.f32 holds the input as little-endian float32 values in the given shape. The JSON
// has the model's input and output names and the first output's shape and values; with
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
  if (pos.length !== 3) throw new Error('usage: run.js MODEL.onnx INPUT.f32 N,H,W,C [--threads T] [--bench ITERS] [--seconds S]');
  const [model, inputPath, shapeArg] = pos;
  const shape = shapeArg.split(',').map((s) => parseInt(s, 10));
  const buf = fs.readFileSync(inputPath);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  if (threads > 0) {
    opts.intraOpNumThreads = threads;
    opts.interOpNumThreads = 1;
  }
  const session = await ort.InferenceSession.create(model, opts);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, shape) };
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
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write('ort: ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(1);
});
