// Times an ONNX model in ONNX Runtime (npm's onnxruntime-node, installed into .deps/ort by
// scripts/install_onnxruntime.sh) on random float32 input: WARMUP untimed then ROUNDS timed runs of
// session.run at batch BATCH, with THREADS intra-op threads; prints JSON
// {"batch", "threads", "median_ms", "times_ms"}.
//   node bench/ort_latency.js MODEL.onnx CHANNELS SIZE BATCH WARMUP ROUNDS THREADS
'use strict';
const ort = require('onnxruntime-node');

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 7) {
    throw new Error('usage: node ort_latency.js MODEL CHANNELS SIZE BATCH WARMUP ROUNDS THREADS');
  }
  const [model] = args;
  const [channels, size, batch, warmup, rounds, threads] = args.slice(1).map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got '${v}'`);
    return n;
  });
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: threads});
  const data = new Float32Array(batch * channels * size * size);
  for (let i = 0; i < data.length; ++i) data[i] = Math.random() * 2 - 1;
  const input = new ort.Tensor('float32', data, [batch, channels, size, size]);
  const times = [];
  for (let r = 0; r < warmup + rounds; ++r) {
    const start = process.hrtime.bigint();
    await session.run({images: input});
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r >= warmup) times.push(ms);
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(JSON.stringify({batch, threads, median_ms: sorted[Math.floor(sorted.length / 2)],
                              times_ms: times}));
}

main().catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
