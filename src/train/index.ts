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
  trainRun, checkTrainOptions, trainWithLrSearch, resolveLearningRates, readRunLog, recoverCheckpoints, globalDice, TRAIN_DEFAULTS,
  SELECTION_MODES, CHECKPOINT_KINDS,
  type TrainOptions, type TrainOutcome, type EpochLogEntry, type RunConfig, type LrSearchOutcome, type SelectionMode, type CheckpointKind,
} from './trainer.js';
