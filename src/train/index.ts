/** Training (issue 6): the public API of src/train. */
export * from './rundir.js';
export * from './optimizer.js';
export * from './schedule.js';
export * from './sampler.js';
export * from './augment.js';
export * from './batches.js';
export * from './producer.js';
