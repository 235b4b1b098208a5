// Statistics library: drift tests, distances and descriptive helpers, checked against SciPy/NumPy by
// test/unit/stats.test.ts (reference values: scripts/reference/scipy_reference.py).
//
// Conventions shared by every function here:
// - pure functions over plain arrays of finite numbers (the monitor removes missing values first and
//   counts them as a data-quality signal) or over count vectors aligned by bin/category;
// - two-sample functions take (reference, current); signed statistics are "current relative to
//   reference", e.g. a positive t means the current mean is higher;
// - impossible inputs (empty samples, mismatched count vectors) throw a RangeError.

export { CHI_SQUARE_MIN_EXPECTED, type ChiSquareResult, chiSquareHomogeneity } from './chi-square.ts';
export {
  DEFAULT_QUANTILE_BINS,
  histogram,
  MAD_NORMAL_SCALE,
  mean,
  median,
  medianAbsoluteDeviation,
  quantile,
  quantileBinEdges,
  quantiles,
  standardDeviation,
  variance,
} from './descriptive.ts';
export { chiSquareSf, normalQuantile, normalSf, poissonAtLeast, studentTSf } from './distributions.ts';
export { jensenShannonDistance } from './jensen-shannon.ts';
export {
  KS_EXACT_MAX_N,
  KS_EXACT_MAX_WORK,
  type KsResult,
  ksStatistic,
  ksTwoSample,
} from './ks.ts';
export { type MannWhitneyResult, mannWhitneyU } from './mann-whitney.ts';
export { benjaminiHochberg, bonferroni } from './multiple-testing.ts';
export { type ProportionCounts, type TwoProportionResult, twoProportionZTest } from './proportions.ts';
export { PSI_EMPTY_BIN_PROPORTION, type PsiOptions, type PsiResult, psi, psiFromCounts } from './psi.ts';
export { type WassersteinResult, wasserstein, wassersteinDistance } from './wasserstein.ts';
export {
  type SampleSums,
  type WelchAlternative,
  type WelchResult,
  welchTTest,
  welchTTestFromSums,
} from './welch.ts';
