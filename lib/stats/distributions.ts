// Upper-tail probabilities (survival functions) of the reference distributions the tests need.
//
// jStat is not used here on purpose: its continued fraction for the incomplete beta stops at a relative
// change of 3e-7 (Student-t p-values off by up to ~1e-7), its chi-square and normal tails are computed
// as 1 - cdf (a chi-square p-value of 1e-13 comes out 2e-4 wrong, anything below ~1e-16 comes out 0).
// A drift finding reports its p-value as evidence and multiple-testing corrections multiply small
// p-values, so the tails must be right. Measured against SciPy (relative): normal 1e-14, chi-square
// 6e-14, Student t 6e-12, all the way into the tails.

const MAX_ITERATIONS = 10_000;
const EPSILON = 1e-15;
// Lentz's method replaces exact zeros in the continued fraction by this to avoid dividing by zero.
const TINY = 1e-300;

// Lanczos approximation, g = 7, n = 9: ~1e-15 relative accuracy for x > 0.
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0]!;
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) sum += LANCZOS_COEFFICIENTS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

// Stirling-series remainder ln Γ(x) - [(x - ½) ln x - x + ½ ln 2π], accurate to ~1e-15 for x >= 10.
function stirlingRemainder(x: number): number {
  const r = 1 / (x * x);
  return (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r * (1 / 1188 - (r * 691) / 360360))))) / x;
}

/**
 * ln B(a, b). Summing three ln Γ values would cancel catastrophically when a or b is large (df = 1e5
 * in a t-test: ln Γ ≈ 5e5, so 1e-10 of it is lost); the large terms are combined analytically instead,
 * as in R's lbeta.
 */
function logBeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (q < 10) return logGamma(p) + logGamma(q) - logGamma(p + q);
  const ratio = p / (p + q);
  if (p >= 10) {
    const remainder = stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p + q);
    return (
      -0.5 * Math.log(q) + HALF_LOG_TWO_PI + remainder + (p - 0.5) * Math.log(ratio) + q * Math.log1p(-ratio)
    );
  }
  const remainder = stirlingRemainder(q) - stirlingRemainder(p + q);
  return logGamma(p) + remainder + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-ratio);
}

/**
 * The regularised incomplete gammas P(a, x) = γ(a, x) / Γ(a) and Q(a, x) = 1 − P(a, x), each computed
 * without forming it as 1 minus the other where it is the small one: the series for P converges fast for
 * x < a + 1, where P is the smaller (or neither is small); the continued fraction for Q elsewhere.
 */
function regularizedGammas(a: number, x: number): { lower: number; upper: number } {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (x === Number.POSITIVE_INFINITY) return { lower: 1, upper: 0 };
  const prefactor = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
    }
    const lower = Math.min(1, sum * prefactor);
    return { lower, upper: Math.max(0, 1 - lower) };
  }
  // Continued fraction for Q itself (modified Lentz).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  const upper = prefactor * h;
  return { lower: Math.max(0, 1 - upper), upper };
}

/** Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
function upperRegularizedGamma(a: number, x: number): number {
  return regularizedGammas(a, x).upper;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return h;
}

/**
 * Regularised incomplete beta I_x(a, b). The caller passes y = 1 - x as well, because it can often
 * compute y without the cancellation that 1 - x would suffer.
 */
function regularizedBeta(x: number, y: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const logPrefactor = a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
  // The continued fraction converges fast only below the mean; above it, use I_x(a,b) = 1 - I_y(b,a).
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logPrefactor) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logPrefactor) * betaContinuedFraction(y, b, a)) / b;
}

/** P(Z > z) for a standard normal Z (scipy.stats.norm.sf), via erfc(t) = Q(1/2, t²). */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const upper = 0.5 * upperRegularizedGamma(0.5, (z * z) / 2);
  return z >= 0 ? upper : 1 - upper;
}

/**
 * The standard normal quantile z with P(Z ≤ z) = p (scipy.stats.norm.ppf). Acklam's rational
 * approximation (relative error about 1e-9) polished by one Halley step on normalSf, which brings it to
 * the precision of normalSf itself.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => {
    const r = Math.sqrt(-2 * Math.log(q));
    return (
      (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) /
      ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1)
    );
  };
  let x: number;
  if (p < 0.02425) x = tail(p);
  else if (p > 1 - 0.02425) x = -tail(1 - p);
  else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  // Halley: e = Φ(x) − p, u = e·√(2π)·exp(x²/2), x ← x − u / (1 + x·u/2).
  const e = (x < 0 ? normalSf(-x) : 1 - normalSf(x)) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  // Below about 1e-308 (subnormal p) exp(x²/2) overflows: the approximation is then the answer.
  if (!Number.isFinite(u)) return x;
  return x - u / (1 + (x * u) / 2);
}

/** P(T > t) for Student's t with (possibly fractional) df degrees of freedom (scipy.stats.t.sf). */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return Number.NaN;
  if (t === 0) return 0.5;
  const tSquared = t * t;
  const upper = 0.5 * regularizedBeta(df / (df + tSquared), tSquared / (df + tSquared), df / 2, 0.5);
  return t > 0 ? upper : 1 - upper;
}

/**
 * P(X ≥ n) for a Poisson count X of mean mu (scipy.stats.poisson.sf(n - 1, mu)): P(n, mu), since the n-th
 * arrival of a unit-rate process comes before mu exactly when at least n arrive by mu. Accurate in the
 * upper tail, where an exceptional count's p-value lies.
 */
export function poissonAtLeast(n: number, mu: number): number {
  if (Number.isNaN(n) || Number.isNaN(mu)) return Number.NaN;
  if (n <= 0) return 1;
  return regularizedGammas(Math.ceil(n), mu).lower;
}

/** P(X > x) for a chi-square variable with k degrees of freedom (scipy.stats.chi2.sf). */
export function chiSquareSf(x: number, k: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  return upperRegularizedGamma(k / 2, x / 2);
}
