/**
 * The learning-rate schedule and stopping rule of the 2019 nnU-Net trainer (nnU-Net V1
 * `NetworkTrainer.run_training` and `manage_patience`; docs/training.md), as a pure state machine over plain JSON state so that a checkpoint can store it.
 *
 * At the end of epoch e, with L_e the mean training loss, ℓ_e the mean validation loss and D_e the
 * mean foreground global Dice of the validation batches (undefined when every class was 0/0):
 *   1. MA_0 = L_0, MA_e = a·MA_{e−1} + (1−a)·L_e                         (a = 0.93)
 *   2. ReduceLROnPlateau(min, factor 0.2, patience 30, threshold 1e-3 abs) on MA_e:
 *      improvement iff MA_e < best − 1e-3 → best = MA_e, bad = 0, else bad += 1;
 *      when bad > 30: lr ← lr·0.2 (only if the change exceeds 1e-8), bad = 0.
 *   3. V_0 = D_0 (or −ℓ_0 without a Dice), V_e = 0.9·V_{e−1} + 0.1·D_e; a new best V marks the
 *      epoch whose weights become checkpoint/best (epoch 0 always does, so that a best exists —
 *      the original only saves on a strict improvement after epoch 0).
 *   4. Patience on MA: if MA_e + 5e-4 < bestMA → bestMA = MA_e, bestEpoch = e.
 *      If e − bestEpoch > 50: when lr > 1e-6, bestEpoch = e − ⌊50/2⌋ (more time); else stop.
 *   5. Stop anyway after maxEpochs epochs.
 * The absolute thresholds make the schedule depend on the loss's scale; that is the original's
 * behaviour and is kept on purpose (docs/training.md, "The protocol").
 */

export interface ScheduleConfig {
  initialLearningRate: number;
  /** Train-loss moving-average factor a (0.93). */
  lossMaFactor: number;
  /** LR reduction factor (0.2). */
  lrFactor: number;
  /** ReduceLROnPlateau patience in epochs (30). */
  lrPatience: number;
  /** ReduceLROnPlateau absolute improvement threshold (1e-3). */
  lrThreshold: number;
  /** Early-stopping patience in epochs (50). */
  earlyStopPatience: number;
  /** Early-stopping improvement epsilon on the loss MA (5e-4). */
  earlyStopEps: number;
  /** Early stopping is allowed only when lr ≤ this (1e-6). */
  earlyStopLrThreshold: number;
  /** Validation-criterion moving-average factor (0.9). */
  valMaFactor: number;
  /** Maximum number of epochs (1000; SegLoss's copy 1500). */
  maxEpochs: number;
}

export const PAPER_SCHEDULE: Omit<ScheduleConfig, 'initialLearningRate'> = {
  lossMaFactor: 0.93,
  lrFactor: 0.2,
  lrPatience: 30,
  lrThreshold: 1e-3,
  earlyStopPatience: 50,
  earlyStopEps: 5e-4,
  earlyStopLrThreshold: 1e-6,
  valMaFactor: 0.9,
  maxEpochs: 1000,
};

export interface ScheduleState {
  /** Number of finished epochs (= index of the next epoch). */
  epoch: number;
  learningRate: number;
  trainLossMa: number | null;
  /** ReduceLROnPlateau's best and bad-epoch counter. */
  plateauBest: number | null;
  plateauBad: number;
  /** Early-stopping bookkeeping. */
  patienceBestMa: number | null;
  patienceBestEpoch: number | null;
  valCriterionMa: number | null;
  bestValCriterionMa: number | null;
  /** Epoch whose weights are checkpoint/best, and its mean foreground Dice. */
  bestEpoch: number | null;
  bestValDice: number | null;
  stopped: boolean;
  stopReason: string | null;
}

export interface EpochMetrics {
  trainLoss: number;
  valLoss: number;
  /** Mean foreground global Dice of the validation batches; undefined when no class had any voxel. */
  valDice: number | undefined;
}

export interface EpochDecision {
  state: ScheduleState;
  lrReduced: boolean;
  /** This epoch's weights are the new checkpoint/best. */
  newBest: boolean;
  stop: boolean;
}

export function initialScheduleState(config: ScheduleConfig): ScheduleState {
  return {
    epoch: 0,
    learningRate: config.initialLearningRate,
    trainLossMa: null,
    plateauBest: null,
    plateauBad: 0,
    patienceBestMa: null,
    patienceBestEpoch: null,
    valCriterionMa: null,
    bestValCriterionMa: null,
    bestEpoch: null,
    bestValDice: null,
    stopped: false,
    stopReason: null,
  };
}

/** Apply the end-of-epoch sequence to the state of a finished epoch (pure; returns a new state). */
export function endEpoch(config: ScheduleConfig, previous: ScheduleState, metrics: EpochMetrics): EpochDecision {
  const s: ScheduleState = { ...previous };
  const e = s.epoch;
  // 1. Train-loss moving average.
  const ma = s.trainLossMa === null ? metrics.trainLoss : config.lossMaFactor * s.trainLossMa + (1 - config.lossMaFactor) * metrics.trainLoss;
  s.trainLossMa = ma;

  // 2. ReduceLROnPlateau(mode min, threshold_mode abs, cooldown 0, min_lr 0, eps 1e-8).
  let lrReduced = false;
  if (s.plateauBest === null || ma < s.plateauBest - config.lrThreshold) {
    s.plateauBest = ma;
    s.plateauBad = 0;
  } else {
    s.plateauBad += 1;
  }
  if (s.plateauBad > config.lrPatience) {
    const next = Math.max(s.learningRate * config.lrFactor, 0);
    if (s.learningRate - next > 1e-8) {
      s.learningRate = next;
      lrReduced = true;
    }
    s.plateauBad = 0;
  }

  // 3. Validation criterion moving average and the best checkpoint.
  const criterion = metrics.valDice ?? -metrics.valLoss;
  s.valCriterionMa = s.valCriterionMa === null ? criterion : config.valMaFactor * s.valCriterionMa + (1 - config.valMaFactor) * criterion;
  let newBest = false;
  if (s.bestValCriterionMa === null || s.valCriterionMa > s.bestValCriterionMa) {
    s.bestValCriterionMa = s.valCriterionMa;
    s.bestEpoch = e;
    s.bestValDice = metrics.valDice ?? null;
    newBest = true;
  }

  // 4. Patience on the train-loss MA.
  if (s.patienceBestMa === null) s.patienceBestMa = ma;
  if (s.patienceBestEpoch === null) s.patienceBestEpoch = e;
  if (ma + config.earlyStopEps < s.patienceBestMa) {
    s.patienceBestMa = ma;
    s.patienceBestEpoch = e;
  }
  let stop = false;
  if (e - s.patienceBestEpoch > config.earlyStopPatience) {
    if (s.learningRate > config.earlyStopLrThreshold) {
      s.patienceBestEpoch = e - Math.floor(config.earlyStopPatience / 2);
    } else {
      stop = true;
      s.stopReason = `early stop: no train-loss improvement for ${config.earlyStopPatience} epochs at lr ${s.learningRate.toExponential(2)}`;
    }
  }

  // 5. Epoch cap.
  s.epoch = e + 1;
  if (!stop && s.epoch >= config.maxEpochs) {
    stop = true;
    s.stopReason = `reached the maximum of ${config.maxEpochs} epoch${config.maxEpochs === 1 ? "" : "s"}`;
  }
  s.stopped = stop;
  return { state: s, lrReduced, newBest, stop };
}
