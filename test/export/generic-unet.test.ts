/**
 * `segloss export`: Generic_UNet names and shapes against the state_dict PyTorch builds for the
 * same topologies, the logits of the exported weights in PyTorch's Generic_UNet against segloss's
 * own, the safetensors encoding, and the command end to end on a run directory. The reference
 * (test/fixtures/export/generic-unet-reference.json) was generated once by
 * test/fixtures/export/make_generic_unet_fixture.py (PyTorch, load_state_dict(strict=True)).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { REPO_ROOT, runSegloss, tempDir } from '../helpers.js';
import type { NetworkTopology } from '../../src/model/topology.js';
import { UNet3D } from '../../src/model/unet.js';
import { saveModel } from '../../src/model/checkpoint.js';
import { genericUnetKwargs, genericUnetParameters, permuteAxes } from '../../src/export/generic-unet.js';
import { genericUnetStateDict } from '../../src/export/export-run.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/export/safetensors.js';

interface Reference {
  state_dicts: { name: string; topology: NetworkTopology; parameters: [string, number[]][] }[];
  forward: { topology: string; seed: number; input_dhw: [number, number, number]; logits_shape: number[]; logits: number[] };
}

const reference = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'export', 'generic-unet-reference.json'), 'utf8')) as Reference;
const topologyNamed = (name: string) => (reference.state_dicts.find((s) => s.name === name) as Reference['state_dicts'][number]).topology;

before(async () => {
  await tf.setBackend('cpu');
});

test('parameter names and shapes equal Generic_UNet\'s state_dict (order included) for three topologies', () => {
  assert.equal(reference.state_dicts.length, 3);
  for (const sd of reference.state_dicts) {
    const ours = genericUnetParameters(sd.topology).map((p) => [p.name, p.shape]);
    assert.deepEqual(ours, sd.parameters, sd.name);
  }
  // The toy plan: 4 stages, so 3 localization stages, 3 transposed convolutions and 3 heads.
  const toy = genericUnetParameters(topologyNamed('toy-liver cpu plan'));
  const byName = new Map(toy.map((p) => [p.name, p]));
  assert.deepEqual(byName.get('conv_blocks_context.0.blocks.0.conv.weight')?.shape, [8, 1, 1, 3, 3]); // NIfTI kernel [3, 3, 1] is (z, y, x) = (1, 3, 3)
  assert.deepEqual(byName.get('conv_blocks_context.3.1.blocks.0.conv.weight')?.source, { kind: 'weight', seglossName: 'enc3.conv1.kernel', permutation: [4, 3, 0, 1, 2] });
  assert.deepEqual(byName.get('tu.0.weight')?.shape, [64, 32, 2, 2, 2]);
  assert.deepEqual(byName.get('tu.2.weight')?.shape, [16, 8, 1, 2, 2]);
  assert.deepEqual(byName.get('seg_outputs.2.weight')?.source, { kind: 'weight', seglossName: 'head0.kernel', permutation: [4, 3, 0, 1, 2] });
  // Without deep supervision segloss has one head; Generic_UNet's other heads are zeros.
  assert.deepEqual(byName.get('seg_outputs.0.weight')?.source, { kind: 'zeros', reason: 'unused-head' });
  assert.deepEqual(byName.get('conv_blocks_localization.2.1.blocks.0.conv.bias')?.source, { kind: 'zeros', reason: 'conv-bias' });
});

test('the exported weights give PyTorch Generic_UNet the logits segloss computes (≤ 1e-4 relative)', () => {
  const f = reference.forward;
  const topology = topologyNamed(f.topology);
  const model = new UNet3D(topology, { seed: f.seed });
  try {
    const [D, H, W] = f.input_dhw;
    const n = D * H * W;
    const x = tf.tensor5d(Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i)), [1, D, H, W, 1]);
    const y = model.predict(x);
    const ours = y.dataSync();
    tf.dispose([x, y]);
    const C = topology.numClasses;
    assert.deepEqual(f.logits_shape, [1, C, D, H, W]);
    let maxAbs = 0;
    let maxErr = 0;
    for (let c = 0; c < C; c++) {
      for (let v = 0; v < n; v++) {
        const want = f.logits[c * n + v] as number;
        maxAbs = Math.max(maxAbs, Math.abs(want));
        maxErr = Math.max(maxErr, Math.abs((ours[v * C + c] as number) - want));
      }
    }
    assert.ok(maxAbs > 0.1);
    assert.ok(maxErr <= 1e-4 * maxAbs, `max error ${maxErr} of ${maxAbs}`);
  } finally {
    model.dispose();
  }
});

test('permuteAxes: a [kd, kh, kw, Ci, Co] kernel becomes [Co, Ci, kd, kh, kw]', () => {
  // shape [1, 2, 1, 2, 3]: value = 100·h + 10·ci + co
  const data = new Float32Array(12);
  for (let h = 0; h < 2; h++) for (let ci = 0; ci < 2; ci++) for (let co = 0; co < 3; co++) data[(h * 2 + ci) * 3 + co] = 100 * h + 10 * ci + co;
  const t = permuteAxes(data, [1, 2, 1, 2, 3], [4, 3, 0, 1, 2]);
  assert.deepEqual(t.shape, [3, 2, 1, 2, 1]);
  // t[co, ci, 0, h, 0] at ((co·2 + ci)·2 + h)
  assert.deepEqual([...t.data], [0, 100, 10, 110, 1, 101, 11, 111, 2, 102, 12, 112]);
});

test('safetensors: 8-byte little-endian header length, 8-byte aligned data, round trip', () => {
  const bytes = encodeSafetensors([{ name: 'a', shape: [2], data: new Float32Array([1.5, -2]) }, { name: 'b.weight', shape: [1, 1], data: new Float32Array([3]) }], { format: 'pt' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0);
  assert.equal(bytes.length, 8 + n + 12);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  assert.deepEqual(header, { __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, 'b.weight': { dtype: 'F32', shape: [1, 1], data_offsets: [8, 12] } });
  // float32 1.5 little-endian = 00 00 c0 3f
  assert.deepEqual([...bytes.subarray(8 + n, 8 + n + 4)], [0x00, 0x00, 0xc0, 0x3f]);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.order, ['a', 'b.weight']);
  assert.deepEqual([...(back.tensors.get('a')?.data ?? [])], [1.5, -2]);
});

test('genericUnetKwargs: the constructor arguments; topologies Generic_UNet cannot build are refused', () => {
  const k = genericUnetKwargs(topologyNamed('capped features, deep supervision, 2 channels'));
  assert.deepEqual([k.input_channels, k.base_num_features, k.num_classes, k.num_pool, k.max_num_features, k.deep_supervision], [2, 4, 3, 3, 16, true]);
  assert.deepEqual(k.pool_op_kernel_sizes, [[2, 2, 2], [1, 2, 2], [2, 2, 2]]);
  assert.deepEqual(k.conv_kernel_sizes, [[3, 3, 3], [3, 3, 3], [1, 3, 3], [3, 3, 3]]);
  const bad: NetworkTopology = { ...topologyNamed('small'), stages: topologyNamed('small').stages.map((s, i) => ({ ...s, features: i === 1 ? 6 : s.features })) };
  assert.throws(() => genericUnetKwargs(bad), /do not double/);
  const wide: NetworkTopology = { ...topologyNamed('small'), stages: topologyNamed('small').stages.map((s) => ({ ...s, kernelSize: [5, 5, 5] as [number, number, number] })) };
  assert.throws(() => genericUnetKwargs(wide), /kernels 1 and 3/);
});

test('segloss export writes the run\'s best checkpoint under Generic_UNet names with its plan', async () => {
  const root = tempDir('segloss-export-');
  const topology = topologyNamed('toy-liver cpu plan');
  const run = path.join(root, 'results', 'toy-liver', 'ce', 'lr-3e-4', 'fold-0', 'seed-12345');
  const model = new UNet3D(topology, { seed: 9 });
  await saveModel(path.join(run, 'checkpoint', 'best'), model);
  const sd = genericUnetStateDict(model);
  const enc = model.namedVariables().find((v) => v.name === 'enc1.conv0.kernel')?.variable;
  const encData = enc?.dataSync() as Float32Array;
  const encShape = enc?.shape as number[];
  model.dispose();
  mkdirSync(run, { recursive: true });
  writeFileSync(path.join(run, 'config.json'), JSON.stringify({ identity: { task: 'toy-liver', loss: 'ce', fold: 0, seed: 12345, learningRate: 3e-4, patchSize: [32, 32, 16] } }));
  writeFileSync(path.join(run, 'status.json'), JSON.stringify({ state: 'done', bestValDice: 0.5 }));

  const out = path.join(root, 'model.safetensors');
  const r = runSegloss(['export', '--run', run, '--format', 'safetensors', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const file = decodeSafetensors(new Uint8Array(readFileSync(out)), out);
  const expected = (reference.state_dicts.find((s) => s.name === 'toy-liver cpu plan') as Reference['state_dicts'][number]).parameters;
  assert.deepEqual(file.order.map((name) => [name, file.tensors.get(name)?.shape]), expected);
  for (const t of sd) assert.deepEqual(file.tensors.get(t.name)?.data, t.data, t.name);
  // one weight checked by hand: torch[co, ci, z, y, x] = segloss[z, y, x, ci, co]
  const w = file.tensors.get('conv_blocks_context.1.blocks.0.conv.weight');
  assert.deepEqual(w?.shape, [16, 8, 3, 3, 3]);
  const [kd, kh, kw, ci, co] = encShape as [number, number, number, number, number];
  assert.deepEqual([kd, kh, kw, ci, co], [3, 3, 3, 8, 16]);
  const at = (z: number, y: number, x: number, i: number, o: number) => encData[(((z * kh + y) * kw + x) * ci + i) * co + o];
  assert.equal(w?.data[(((5 * 8 + 3) * 3 + 2) * 3 + 1) * 3 + 0], at(2, 1, 0, 3, 5));
  assert.ok(file.tensors.get('conv_blocks_context.1.blocks.0.conv.bias')?.data.every((v) => v === 0));

  const kwargs = JSON.parse(file.metadata['generic_unet_kwargs'] as string) as { num_pool: number; base_num_features: number };
  assert.deepEqual([kwargs.num_pool, kwargs.base_num_features], [3, 8]);
  const plan = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { generic_unet_kwargs: unknown; patch_size: number[]; run: { seed: number; checkpoint: { kind: string } } };
  assert.deepEqual(plan.generic_unet_kwargs, kwargs);
  assert.deepEqual(plan.patch_size, [16, 32, 32]);
  assert.deepEqual([plan.run.seed, plan.run.checkpoint.kind], [12345, 'best']);

  const missing = runSegloss(['export', '--run', run, '--checkpoint', 'final', '--out', path.join(root, 'x.safetensors')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no 'final' model checkpoint/);
});
