// Runs an ONNX model with ONNX Runtime (npm's onnxruntime-node, which scripts/setup.sh installs
// into .deps/ort) on the float32 "images" tensor of a safetensors file and writes the "logits"
// output as JSON {"dims": [...], "data": [...]}. Usage: node ort_logits.js MODEL IMAGES OUT
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readImages(path) {
  const bytes = fs.readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const entry = header.images;
  if (!entry || entry.dtype !== 'F32') throw new Error(`${path}: no float32 "images" tensor`);
  const [begin, end] = entry.data_offsets;
  const data = bytes.subarray(8 + headerLength + begin, 8 + headerLength + end);
  // Copied so that the Float32Array is aligned whatever the header length.
  return new ort.Tensor('float32', new Float32Array(new Uint8Array(data).buffer), entry.shape);
}

async function main() {
  const [model, images, out] = process.argv.slice(2);
  if (!out) throw new Error('usage: node ort_logits.js MODEL IMAGES OUT');
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const result = await session.run({images: readImages(images)});
  const logits = result.logits;
  fs.writeFileSync(out, JSON.stringify({dims: logits.dims, data: Array.from(logits.data)}));
}

main().catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
