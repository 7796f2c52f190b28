/** segloss library API: every CLI command is a thin wrapper over these exports. */
export * from './util/errors.js';
export * from './util/rng.js';
export * from './util/atomic.js';
export * from './model/backend.js';
export * from './losses/types.js';
export * from './losses/registry.js';
export * from './losses/distance.js';
export { verifyReferenceFile, verifyCase, readReferenceFile, REFERENCE_MAP } from './losses/verify.js';
export type { VerifyReport, CaseResult, LossSummary, ReferenceCase, ReferenceMapping } from './losses/verify.js';
export { readResultsCsv, parseResultsCsv } from './rank/results.js';
export { rankResults, DEFAULT_RANK_OPTIONS } from './rank/ranking.js';
export { writeRankingOutputs } from './rank/outputs.js';
export { renderLeaderboardText, leaderboardJson } from './rank/leaderboard.js';
export { renderTable2Markdown } from './rank/table2.js';
export { wilcoxon } from './rank/wilcoxon.js';
export { kendallTauB } from './rank/kendall.js';
export type { WilcoxonResult } from './rank/wilcoxon.js';
export type { ResultRow, RankOptions, Ranking, LeaderboardEntry, SchemeRanking, BootstrapResult, PairwiseComparison, MetricTable } from './rank/types.js';
