/**
 * Training profiles (configs/training/<name>.yaml): `paper` holds nnUNetTrainer's numbers, `cpu`
 * the same rules scaled for a 2-core machine. A profile is named or given as a path to a YAML
 * file. The planning side of a profile (patch size, network) lives in configs/profiles/ and is
 * read by preprocessing; the two share the profile name.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readYamlFile } from '../util/yaml.js';
import { InputError, UsageError } from '../util/errors.js';
import { CONFIG_DIR } from '../util/paths.js';
import type { AugmentationParams } from './augment.js';
import type { ScheduleConfig } from './schedule.js';

export const TRAINING_PROFILE_DIR = path.join(CONFIG_DIR, 'training');

export interface TrainingProfile {
  name: string;
  description: string;
  /** Planning profile (configs/profiles/) the task is preprocessed with: `planning_profile`, default the same name. */
  planningProfile: string;
  epochs: number;
  iterations: number;
  valBatches: number;
  learningRate: number;
  lrSearch: number[];
  finetuneLrSearch: number[];
  pretrainLr: number;
  optimizer: { beta1: number; beta2: number; epsilon: number; weightDecay: number };
  schedule: Omit<ScheduleConfig, 'initialLearningRate' | 'maxEpochs'>;
  augmentation: AugmentationParams;
  /** Worker threads for batch preparation, or 'auto'. */
  workers: number | 'auto';
}

export function trainingProfilePath(profile: string): string {
  if (profile.endsWith('.yaml') || profile.endsWith('.yml') || profile.includes('/') || profile.includes(path.sep)) return path.resolve(profile);
  return path.join(TRAINING_PROFILE_DIR, `${profile}.yaml`);
}

type Obj = Record<string, unknown>;

class Reader {
  constructor(private readonly file: string) {}

  fail(key: string, problem: string): never {
    throw new InputError(this.file, `${key}: ${problem}`);
  }

  obj(parent: Obj, key: string, allowed: readonly string[]): Obj {
    const v = parent[key.split('.').pop() as string];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return this.fail(key, 'expected a mapping');
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail(`${key}.${k}`, `unknown key (valid: ${allowed.join(', ')})`);
    return v as Obj;
  }

  num(parent: Obj, key: string, check: (n: number) => boolean = () => true, what = 'a number'): number {
    const v = parent[key.split('.').pop() as string];
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) return this.fail(key, `expected ${what}, got ${JSON.stringify(v)}`);
    return v;
  }

  pos(parent: Obj, key: string): number {
    return this.num(parent, key, (n) => n > 0, 'a positive number');
  }

  posInt(parent: Obj, key: string): number {
    return this.num(parent, key, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
  }

  prob(parent: Obj, key: string): number {
    return this.num(parent, key, (n) => n >= 0 && n <= 1, 'a probability in [0, 1]');
  }

  pair(parent: Obj, key: string): [number, number] {
    const v = parent[key.split('.').pop() as string];
    if (!Array.isArray(v) || v.length !== 2 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)) || (v[0] as number) > (v[1] as number)) {
      return this.fail(key, `expected [low, high], got ${JSON.stringify(v)}`);
    }
    return [v[0] as number, v[1] as number];
  }

  list(parent: Obj, key: string): number[] {
    const v = parent[key];
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !(x > 0))) return this.fail(key, `expected a list of positive numbers, got ${JSON.stringify(v)}`);
    return v as number[];
  }
}

const TOP_KEYS = ['description', 'planning_profile', 'epochs', 'iterations', 'val_batches', 'learning_rate', 'lr_search', 'finetune_lr_search', 'pretrain_lr', 'optimizer', 'schedule', 'augmentation', 'workers'];

/** Read and validate a training profile; unknown or invalid keys are an InputError naming the file. */
export function loadTrainingProfile(profile: string): TrainingProfile {
  const file = trainingProfilePath(profile);
  if (!existsSync(file)) {
    throw new UsageError(`--profile: no training profile '${profile}' (${file} does not exist; built in: paper, cpu)`);
  }
  const raw = readYamlFile(file, 'training-profile');
  const r = new Reader(file);
  for (const k of Object.keys(raw)) if (!TOP_KEYS.includes(k)) r.fail(k, `unknown key (valid: ${TOP_KEYS.join(', ')})`);
  const opt = r.obj(raw, 'optimizer', ['beta1', 'beta2', 'epsilon', 'weight_decay']);
  const sch = r.obj(raw, 'schedule', ['loss_ma_factor', 'lr_factor', 'lr_patience', 'lr_threshold', 'early_stop_patience', 'early_stop_eps', 'early_stop_lr_threshold', 'val_ma_factor']);
  const aug = r.obj(raw, 'augmentation', ['elastic', 'rotation', 'scaling', 'gamma', 'mirror', 'dummy_2d', 'data_order']);
  const el = r.obj(aug, 'augmentation.elastic', ['p', 'alpha', 'sigma']);
  const rot = r.obj(aug, 'augmentation.rotation', ['p', 'degrees']);
  const sc = r.obj(aug, 'augmentation.scaling', ['p', 'range']);
  const ga = r.obj(aug, 'augmentation.gamma', ['p', 'range']);
  const mi = r.obj(aug, 'augmentation.mirror', ['p']);
  const d2 = r.obj(aug, 'augmentation.dummy_2d', ['alpha', 'sigma', 'degrees']);
  const order = aug['data_order'];
  if (order !== 1 && order !== 3) r.fail('augmentation.data_order', `expected 1 or 3, got ${JSON.stringify(order)}`);
  const workers = raw['workers'];
  if (workers !== 'auto' && !(typeof workers === 'number' && Number.isInteger(workers) && workers >= 0)) r.fail('workers', `expected auto or an integer ≥ 0, got ${JSON.stringify(workers)}`);
  const planningRaw = raw['planning_profile'];
  let planning = profile;
  if (typeof planningRaw === 'string') planning = path.isAbsolute(planningRaw) || !planningRaw.includes('/') ? planningRaw : path.resolve(path.dirname(file), planningRaw);
  else if (planningRaw !== undefined) r.fail('planning_profile', `expected a profile name or path, got ${JSON.stringify(planningRaw)}`);
  const frac = (o: Obj, k: string) => r.num(o, k, (n) => n > 0 && n < 1, 'a number in (0, 1)');
  return {
    name: profile,
    description: typeof raw['description'] === 'string' ? raw['description'] : '',
    planningProfile: planning,
    epochs: r.posInt(raw, 'epochs'),
    iterations: r.posInt(raw, 'iterations'),
    valBatches: r.posInt(raw, 'val_batches'),
    learningRate: r.pos(raw, 'learning_rate'),
    lrSearch: r.list(raw, 'lr_search'),
    finetuneLrSearch: r.list(raw, 'finetune_lr_search'),
    pretrainLr: r.pos(raw, 'pretrain_lr'),
    optimizer: {
      beta1: frac(opt, 'optimizer.beta1'),
      beta2: frac(opt, 'optimizer.beta2'),
      epsilon: r.pos(opt, 'optimizer.epsilon'),
      weightDecay: r.num(opt, 'optimizer.weight_decay', (n) => n >= 0, 'a number ≥ 0'),
    },
    schedule: {
      lossMaFactor: r.num(sch, 'schedule.loss_ma_factor', (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
      lrFactor: frac(sch, 'schedule.lr_factor'),
      lrPatience: r.num(sch, 'schedule.lr_patience', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0'),
      lrThreshold: r.num(sch, 'schedule.lr_threshold', (n) => n >= 0, 'a number ≥ 0'),
      earlyStopPatience: r.num(sch, 'schedule.early_stop_patience', (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0'),
      earlyStopEps: r.num(sch, 'schedule.early_stop_eps', (n) => n >= 0, 'a number ≥ 0'),
      earlyStopLrThreshold: r.num(sch, 'schedule.early_stop_lr_threshold', (n) => n >= 0, 'a number ≥ 0'),
      valMaFactor: r.num(sch, 'schedule.val_ma_factor', (n) => n >= 0 && n < 1, 'a number in [0, 1)'),
    },
    augmentation: {
      elastic: { p: r.prob(el, 'augmentation.elastic.p'), alpha: r.pair(el, 'augmentation.elastic.alpha'), sigma: r.pair(el, 'augmentation.elastic.sigma') },
      rotation: { p: r.prob(rot, 'augmentation.rotation.p'), degrees: r.pair(rot, 'augmentation.rotation.degrees') },
      scaling: { p: r.prob(sc, 'augmentation.scaling.p'), range: r.pair(sc, 'augmentation.scaling.range') },
      gamma: { p: r.prob(ga, 'augmentation.gamma.p'), range: r.pair(ga, 'augmentation.gamma.range') },
      mirror: { p: r.prob(mi, 'augmentation.mirror.p') },
      dummy2D: { alpha: r.pair(d2, 'augmentation.dummy_2d.alpha'), sigma: r.pair(d2, 'augmentation.dummy_2d.sigma'), degrees: r.pair(d2, 'augmentation.dummy_2d.degrees') },
      dataOrder: order as 1 | 3,
    },
    workers: workers as number | 'auto',
  };
}
