/** Public API of preprocessing: fingerprint, planning, resampling, normalisation, splits, cache. */
export { preprocessDataset, type PreprocessOptions, type PreprocessProgress } from './pipeline.js';
export { loadPlans, loadSplits, planHash, casePlanOf, PREPROCESS_VERSION, type Plans, type Splits } from './plans.js';
export { loadPreprocessedCase, preprocessedAffine, OUTSIDE_LABEL, type PreprocessedCase } from './cache.js';
export { preprocessForInference, restoreToOriginal, volumeChannels, type InferenceInput, type RestoreOptions } from './inference.js';
export { preprocessArrays, type CaseMeta, type CasePlan, type NormalizationPlan, type NormalizationScheme, type PreprocessedArrays } from './case.js';
export { resampleImage, resampleLabels, resampledShape, separateZAxis, uniqueLabels, SEPARATE_Z_THRESHOLD, type ResampleOptions, type LabelResampleOptions } from './resample.js';
export { zoomGrid, type InterpolationOrder } from '../ndimage/zoom.js';
export { cropToNonzero, nonzeroMask, fillHoles, boundingBox, cropArray, pasteArray, boxShape, type CropBox, type CroppedCase } from './crop.js';
export { foregroundSamples, intensityStats, percentileSorted, isCT, type IntensityStats, type CaseFingerprint } from './fingerprint.js';
export { normalizeCT, normalizeZScore, useNonzeroMask } from './normalize.js';
export { planExperiment, topologyFromPlan, poolLateV2, vramProxy, padShape, propertiesForStage, NNUNET_V1_DEFAULTS, type PlannerSettings, type ExperimentPlan, type PlanningInput, type StagePlan } from './plan.js';
export { loadProfile, profilePath, PROFILE_DIR, type Profile } from './profile.js';
export { makeSplits, kFold, MersenneTwister, pythonSorted, type Fold } from './splits.js';
