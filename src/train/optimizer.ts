/**
 * Adam with AMSGrad and L2 weight decay, exactly as the 2019 nnU-Net trainer used it:
 * `torch.optim.Adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=3e-5, amsgrad=True)`
 * (nnU-Net V1 `NetworkTrainer.initialize_optimizer_and_scheduler`; docs/training.md). tfjs's own Adam has neither AMSGrad nor weight decay.
 *
 * Per parameter θ with gradient g at step t = 1, 2, … (torch 1.13 `_single_tensor_adam`):
 *   g      ← g + λ·θ                      (L2 decay added to the gradient — not AdamW)
 *   m      ← β1·m + (1−β1)·g
 *   v      ← β2·v + (1−β2)·g²
 *   v̂max  ← max(v̂max, v)                 (AMSGrad: the running maximum of v)
 *   θ      ← θ − (lr / (1−β1^t)) · m / (√v̂max / √(1−β2^t) + ε)
 *
 * The learning rate may change between steps (the plateau schedule sets it); the moments and the
 * step count are the optimizer state a checkpoint stores (`state()` / `setState()`).
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../util/errors.js';

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** L2 weight decay λ added to the gradient (nnU-Net: 3e-5). */
  weightDecay?: number;
}

/** Serialisable optimizer state: step count and the three moment tensors per variable. */
export interface AdamState {
  step: number;
  /** Keys `m/<i>`, `v/<i>`, `vmax/<i>` for variable index i. */
  tensors: Record<string, tf.Tensor>;
}

export class AmsgradAdam {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private step = 0;
  private readonly vars: tf.Variable[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly vmax: tf.Variable[];

  constructor(variables: tf.Variable[], options: AdamOptions) {
    this.vars = variables;
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.m = variables.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = variables.map((x) => tf.variable(tf.zerosLike(x), false));
    this.vmax = variables.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** Number of updates applied so far. */
  get iterations(): number {
    return this.step;
  }

  /**
   * Apply one update. `grads[i]` is d loss / d variables[i] (not disposed here). A variable without
   * a gradient (undefined) is left untouched, as torch skips parameters whose `grad` is None.
   */
  applyGradients(grads: (tf.Tensor | undefined)[]): void {
    if (grads.length !== this.vars.length) throw new Error(`expected ${this.vars.length} gradients, got ${grads.length}`);
    this.step += 1;
    const t = this.step;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = this.learningRate / (1 - b1 ** t);
    const sqrtBc2 = Math.sqrt(1 - b2 ** t);
    tf.tidy(() => {
      for (let i = 0; i < this.vars.length; i++) {
        const raw = grads[i];
        if (raw === undefined) continue;
        const theta = this.vars[i] as tf.Variable;
        const g = this.weightDecay !== 0 ? raw.add(theta.mul(this.weightDecay)) : raw;
        const m = (this.m[i] as tf.Variable).mul(b1).add(g.mul(1 - b1));
        const v = (this.v[i] as tf.Variable).mul(b2).add(g.square().mul(1 - b2));
        const vmax = tf.maximum(this.vmax[i] as tf.Variable, v);
        const denom = vmax.sqrt().div(sqrtBc2).add(this.epsilon);
        (this.m[i] as tf.Variable).assign(m);
        (this.v[i] as tf.Variable).assign(v);
        (this.vmax[i] as tf.Variable).assign(vmax);
        theta.assign(theta.sub(m.div(denom).mul(stepSize)));
      }
    });
  }

  /** A copy of the state (caller disposes the tensors). */
  state(): AdamState {
    const tensors: Record<string, tf.Tensor> = {};
    for (let i = 0; i < this.vars.length; i++) {
      tensors[`m/${i}`] = (this.m[i] as tf.Variable).clone();
      tensors[`v/${i}`] = (this.v[i] as tf.Variable).clone();
      tensors[`vmax/${i}`] = (this.vmax[i] as tf.Variable).clone();
    }
    return { step: this.step, tensors };
  }

  /** Restore a state saved by `state()`; `source` names the file in errors. Tensors are not disposed. */
  setState(state: AdamState, source = 'optimizer state'): void {
    for (let i = 0; i < this.vars.length; i++) {
      for (const [kind, store] of [['m', this.m], ['v', this.v], ['vmax', this.vmax]] as const) {
        const t = state.tensors[`${kind}/${i}`];
        const target = store[i] as tf.Variable;
        if (t === undefined) throw new InputError(source, `missing tensor ${kind}/${i}`);
        if (t.shape.join('x') !== target.shape.join('x')) {
          throw new InputError(source, `tensor ${kind}/${i} has shape [${t.shape.join(', ')}], the model needs [${target.shape.join(', ')}]`);
        }
        target.assign(t);
      }
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v, ...this.vmax]) x.dispose();
  }
}
