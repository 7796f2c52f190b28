/** Training: the public API of src/train. */
export * from './optimizer.js';
export * from './schedule.js';
export * from './sampler.js';
export * from './augment.js';
export * from './batches.js';
export * from './producer.js';
export * from './config.js';
export * from './curve.js';
export * from './data.js';
export {
  trainRun, trainWithLrSearch, resolveLearningRates, readRunLog, recoverCheckpoints, globalDice, TRAIN_DEFAULTS,
  type TrainOptions, type TrainOutcome, type EpochLogEntry, type RunConfig, type LrSearchOutcome,
} from './trainer.js';
