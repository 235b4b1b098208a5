// Window metrics: the Monitor phase as pure functions. buildReferenceProfile runs once per model version
// (its result is stored with the version), computeWindowMetrics once per window (its result is stored
// with the window), summarizeForAgent turns the latter into what the agent workflow carries. No I/O,
// clocks or randomness: the caller passes the rows, the reference and the time.
export type { ValueProblem } from '../ingest/validate.ts';
export type { ProblemCounts } from './columns.ts';
export { CONFIDENCE_DEFAULTS, type ConfidenceMetrics } from './confidence.ts';
export {
  type CategoricalDistribution,
  type CategoricalDrift,
  DISTRIBUTION_DEFAULTS,
  type Distribution,
  DRIFT_DEFAULTS,
  type DriftResult,
  type NotJudged,
  type NumericDistribution,
  type NumericDrift,
} from './distributions.ts';
export {
  CALIBRATION_DEFAULTS,
  type CalibrationBin,
  type CalibrationCheck,
  type CalibrationSettings,
  type PerformanceEstimate,
} from './estimate.ts';
export {
  INVALID_OUTPUT_REASONS,
  type InvalidOutputReason,
  OUTPUT_DEFAULTS,
  type OutputRange,
  type RawOutput,
  tallyOutputs,
} from './outputs.ts';
export {
  type ClassificationPerformance,
  type ClassMetrics,
  errorRuns,
  type LabelFeedback,
  PERFORMANCE_DEFAULTS,
  type Performance,
  type RegressionPerformance,
} from './performance.ts';
export { type FeatureQuality, QUALITY_DEFAULTS } from './quality.ts';
export {
  buildReferenceProfile,
  type Evaluation,
  type EvaluationInput,
  evaluateOutputs,
  type FeatureProfile,
  REFERENCE_PROFILE_FORMAT,
  type ReferenceInput,
  type ReferenceProfile,
  type ReferenceSettings,
  SEGMENT_REFERENCE_DEFAULTS,
  type SegmentReference,
  segmentReference,
} from './reference.ts';
export {
  type AgentWindowSummary,
  type DriftDigest,
  type QualityDigest,
  SUMMARY_DEFAULTS,
  type SummarySettings,
  summarizeForAgent,
} from './summary.ts';
export type { ArrivalMetrics, LatencyMetrics } from './system.ts';
export {
  computeWindowMetrics,
  type FeatureDrift,
  type OutputMetrics,
  WINDOW_DEFAULTS,
  WINDOW_METRICS_FORMAT,
  type WindowInput,
  type WindowMetrics,
  type WindowOptions,
  type WindowPrediction,
  type WindowSettings,
} from './window.ts';
