/**
 * Child process of threads.test.ts: selects the wasm backend (thread count from
 * SEGLOSS_WASM_THREADS), runs one UNet3D forward + filter gradient, and prints
 * {"threads": n, "logits": [...], "grad": [...]} as JSON.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.js';
import { UNet3D } from '../../src/model/unet.js';
import { Rng } from '../../src/util/rng.js';

const info = await selectBackend('wasm');
const net = new UNet3D(
  {
    inChannels: 1,
    numClasses: 2,
    deepSupervision: false,
    stages: [
      { features: 8, kernelSize: [3, 3, 3], stride: [1, 1, 1] },
      { features: 16, kernelSize: [3, 3, 3], stride: [2, 2, 2] },
    ],
  },
  { seed: 4 },
);
const rng = new Rng(2);
const v = new Float32Array(2 * 16 * 16 * 16);
for (let i = 0; i < v.length; i++) v[i] = rng.normal();
const x = tf.tensor5d(v, [2, 16, 16, 16, 1]);
const logits = net.predict(x);
const g = tf.variableGrads(() => tf.sum(tf.square(net.apply(x, true)[0]!)) as tf.Scalar, net.variables);
const first = g.grads[net.variables[0]!.name]!;
process.stdout.write(JSON.stringify({ threads: info.threads, logits: Array.from(logits.dataSync()), grad: Array.from(first.dataSync()) }) + '\n');
