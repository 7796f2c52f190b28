/**
 * Fused instance normalisation + LeakyReLU (nnU-Net block: conv → IN(eps 1e-5, affine) → LReLU(0.01)).
 *
 * For x of shape [N, ...spatial, C], with S = number of spatial voxels, per (n, c):
 *   μ = (1/S) Σ_s x,   σ² = (1/S) Σ_s x² − μ²  (biased, as torch.nn.InstanceNorm3d),
 *   x̂ = (x − μ) / √(σ² + eps),   z = γ_c x̂ + β_c,   y = LReLU(z) = z if z > 0 else slope·z.
 * Backward, with g = dy · LReLU′(z) (LReLU′ taken from the sign of the saved output y):
 *   dβ_c = Σ_{n,s} g,   dγ_c = Σ_{n,s} g x̂,
 *   dx = γ_c /√(σ²+eps) · (g − a/S − x̂ b/S)  with a = Σ_s g, b = Σ_s g x̂ (per n, c).
 *
 * On the wasm and cpu backends this runs as two JavaScript kernels working directly on the
 * backend's memory (./kernels/InstanceNormLeakyRelu.ts and ./kernels/InstanceNormLeakyReluGrad.ts;
 * two passes each, statistics accumulated in float64): about 3× faster than the equivalent chain
 * of tfjs ops, and autodiff through `tf.moments` is slower still (docs/performance.md).
 * On other backends (native TensorFlow, GPU) it is the same formula in tfjs ops with autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import { INSTANCE_NORM_LEAKY_RELU } from './kernels/InstanceNormLeakyRelu.js';
import { INSTANCE_NORM_LEAKY_RELU_GRAD } from './kernels/InstanceNormLeakyReluGrad.js';
import { registerKernels } from './register-kernels.js';

function usesJsKernels(): boolean {
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

/** Reference formulation in tfjs ops (autodiff); used on native/GPU backends and in tests. */
export function instanceNormLeakyReluOps<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5, slope = 0.01): T {
  return tf.tidy(() => {
    const axes = [...Array(x.rank - 2).keys()].map((i) => i + 1);
    const { mean, variance } = tf.moments(x, axes, true);
    const z = tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
    return tf.leakyRelu(z, slope) as T;
  });
}

/**
 * y = LeakyReLU(InstanceNorm(x)·γ + β) for x = [N, ...spatial, C], γ, β = [C]. Differentiable
 * w.r.t. x, γ and β. Spatial size 1 gives σ² = 0 and y = LReLU(β) (as PyTorch).
 */
export function instanceNormLeakyRelu<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5, slope = 0.01): T {
  if (!usesJsKernels() || x.dtype !== 'float32') return instanceNormLeakyReluOps(x, gamma, beta, eps, slope);
  registerKernels(tf.getBackend());
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [y, stats] = tf.engine().runKernel(INSTANCE_NORM_LEAKY_RELU, { x: xIn, gamma: g, beta: b }, { eps, slope }) as tf.Tensor[];
    save([xIn, y as tf.Tensor, g, stats as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [sx, sy, sg, sStats] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          return tf.engine().runKernel(INSTANCE_NORM_LEAKY_RELU_GRAD, { dy, x: sx, y: sy, gamma: sg, stats: sStats }, { slope }) as tf.Tensor[];
        }),
    };
  });
  return op(x, gamma, beta) as T;
}
