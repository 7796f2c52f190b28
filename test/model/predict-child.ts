/**
 * Child process of checkpoint.test.ts: loads a model saved by the parent and writes its
 * full-resolution logits for the Rng(9) input [1, 8, 8, 8, 1] as raw float32 bytes.
 * Usage: node dist/test/model/predict-child.js <checkpoint dir> <output file>
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { writeFileSync } from 'node:fs';
import { loadModel } from '../../src/model/checkpoint.js';
import { Rng } from '../../src/util/rng.js';

const [dir, out] = process.argv.slice(2) as [string, string];
await tf.setBackend('wasm');
const net = await loadModel(dir);
const rng = new Rng(9);
const v = new Float32Array(512);
for (let i = 0; i < v.length; i++) v[i] = rng.normal();
const y = net.predict(tf.tensor5d(v, [1, 8, 8, 8, 1]));
writeFileSync(out, new Uint8Array((y.dataSync() as Float32Array).buffer));
