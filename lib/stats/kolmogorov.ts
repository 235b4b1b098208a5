// The two-sided one-sample Kolmogorov–Smirnov distribution, Pr(D_n >= d) (scipy.stats.kstwo.sf).
// The two-sample test uses it with n = round(n1·n2 / (n1 + n2)) once the samples are too large for the
// exact lattice-path count, exactly as scipy.stats.ks_2samp does in its 'asymp' mode.
//
// Method selection follows Simard & L'Ecuyer (2011), "Computing the two-sided Kolmogorov–Smirnov
// distribution", J. Stat. Softw. 39(11), as SciPy's _ksstats.kolmogn does, with one difference: where
// SciPy uses Pomeranz's recursion (n <= 140, 0.754693 < n·d² <= 4) this uses the Durbin matrix too.
// Both are exact; the matrix is small there (order <= 47), so nothing is lost but a second algorithm.
// And for large n SciPy keeps using the matrix up to order ~120 (up to ~65 ms here); this switches to
// Pelz–Good above DURBIN_MAX_K, where p > 1 - 1e-7 and the two differ by < 1e-12.

import { logGamma } from './distributions.ts';

const PI_SQUARED = Math.PI ** 2;
const PI_FOURTH = Math.PI ** 4;
const PI_SIXTH = Math.PI ** 6;
const SQRT_TWO_PI = Math.sqrt(2 * Math.PI);
/** Largest k = ceil(n·d) for the Durbin matrix (order 2k - 1) on large n: ~14 ms at n = 100,000. */
const DURBIN_MAX_K = 30;
// Matrix powers grow like e^n; they are rescaled by exact powers of two to stay in range.
const RESCALE_ABOVE = 2 ** 128;

/** Pr(D_n >= d) for the two-sided one-sample statistic with sample size n. */
export function kolmogorovSmirnovSf(n: number, d: number): number {
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const t = n * d;
  if (t <= 1) {
    // Ruben & Gambino: Pr(D_n < d) = n!/n^n · (2t - 1)^n for 1/(2n) <= d <= 1/n.
    if (t <= 0.5) return 1;
    return 1 - Math.exp(logGamma(n + 1) - n * Math.log(n) + n * Math.log(2 * t - 1));
  }
  if (t >= n - 1) return clip(2 * (1 - d) ** n);
  if (d >= 0.5) return clip(2 * smirnovSf(n, d));
  const nd2 = t * d;
  if (n <= 140) {
    if (nd2 <= 4) return clip(1 - durbinMatrixCdf(n, d));
    return clip(2 * smirnovSf(n, d));
  }
  if (nd2 >= 370) return 0;
  // Above this the two one-sided tails practically never overlap, so the sf is twice the one-sided one.
  if (nd2 >= 2.2) return clip(2 * smirnovSf(n, d));
  if (n <= 100_000 && n * d ** 1.5 <= 1.4 && Math.ceil(n * d) <= DURBIN_MAX_K) {
    return clip(1 - durbinMatrixCdf(n, d));
  }
  return clip(1 - pelzGoodCdf(n, d));
}

/**
 * One-sided Pr(D_n^+ >= d) by the Birnbaum–Tingey sum, O(n). All terms are positive, so nothing cancels
 * even far in the tail; accuracy is set by ln C(n, v) from ln Γ (~1e-10 relative at n = 50,000).
 */
function smirnovSf(n: number, d: number): number {
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const logD = Math.log(d);
  const logNFactorial = logGamma(n + 1);
  const last = Math.floor(n * (1 - d));
  let sum = 0;
  for (let v = 0; v <= last; v++) {
    const remaining = d + v / n;
    if (remaining >= 1) break;
    const logTerm =
      logNFactorial -
      logGamma(v + 1) -
      logGamma(n - v + 1) +
      logD +
      (v - 1) * Math.log(remaining) +
      (n - v) * Math.log1p(-remaining);
    sum += Math.exp(logTerm);
  }
  return sum;
}

/** Durbin's matrix method in the form of Marsaglia, Tsang & Wang (2003): exact Pr(D_n < d). */
function durbinMatrixCdf(n: number, d: number): number {
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let inverseFactorial = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = inverseFactorial;
    inverseFactorial /= j;
    v[j - 1] = (1 - h ** j) * inverseFactorial;
  }
  v[m - 1] = (1 + Math.max(2 * h - 1, 0) ** m - 2 * h ** m) * inverseFactorial;
  const H = new Float64Array(m * m);
  for (let col = 1; col < m; col++) {
    for (let row = col - 1; row < m; row++) H[row * m + col] = w[row - col + 1]!;
  }
  for (let row = 0; row < m; row++) H[row * m] = v[row]!;
  for (let col = 0; col < m; col++) H[(m - 1) * m + col] = v[m - 1 - col]!;

  // H^n by repeated squaring; each matrix carries its own power-of-two exponent.
  let power: ScaledMatrix | undefined;
  let base: ScaledMatrix = { values: H, exponent: 0 };
  for (let remaining = n; remaining > 0; remaining = Math.floor(remaining / 2)) {
    if (remaining % 2 === 1) power = power ? multiply(power, base, m) : base;
    if (remaining > 1) base = multiply(base, base, m);
  }
  let p = power!.values[(k - 1) * m + (k - 1)]!;
  let exponent = power!.exponent;
  // Multiply by n!/n^n one factor at a time, rescaling to avoid underflow.
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 1 / RESCALE_ABOVE) {
      p *= RESCALE_ABOVE;
      exponent -= 128;
    }
  }
  return p * 2 ** exponent;
}

interface ScaledMatrix {
  values: Float64Array;
  exponent: number;
}

function multiply(a: ScaledMatrix, b: ScaledMatrix, m: number): ScaledMatrix {
  const out = new Float64Array(m * m);
  let largest = 0;
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a.values[i * m + l]!;
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j]! += ail * b.values[l * m + j]!;
    }
    for (let j = 0; j < m; j++) largest = Math.max(largest, Math.abs(out[i * m + j]!));
  }
  let exponent = a.exponent + b.exponent;
  if (largest > RESCALE_ABOVE) {
    for (let i = 0; i < out.length; i++) out[i]! /= RESCALE_ABOVE;
    exponent += 128;
  }
  return { values: out, exponent };
}

/**
 * Pelz & Good (1976): the Li-Chien/Korolyuk expansion in 1/sqrt(n), rewritten with Jacobi theta
 * identities so that it converges for small z = d·sqrt(n). Used for large n where the matrix is too big.
 */
function pelzGoodCdf(n: number, d: number): number {
  const z = Math.sqrt(n) * d;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qLog = -PI_SQUARED / 8 / z2;
  if (qLog < -708) return 0;
  let q = Math.exp(qLog);
  const k1a = -z2;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI_SQUARED) / 4;
  const k2c = (PI_FOURTH * (1 - 2 * z2)) / 16;
  const k3d = (PI_SIXTH * (5 - 30 * z2)) / 64;
  const k3c = (PI_FOURTH * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI_SQUARED * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z4 * z4;
  const terms = [0, 0, 0, 0];
  const maxK = Math.ceil((16 * z) / Math.PI);
  // Horner scheme over odd integers m = 2k - 1 of sum c_m q^(m²).
  for (let k = maxK; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const qPower = q ** (8 * k);
    const coefficients = [
      1,
      k1a + k1b * m2,
      k2a + k2b * m2 + k2c * m2 * m2,
      k3a + k3b * m2 + k3c * m2 * m2 + k3d * m2 * m2 * m2,
    ];
    for (let i = 0; i < 4; i++) terms[i] = terms[i]! * qPower + coefficients[i]!;
  }
  const divisors = [z, 6 * z4, 72 * z4 * z2 * z, 6480 * z4 * z6];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i]! * q * SQRT_TWO_PI) / divisors[i]!;
  // The remaining sums of K2 and K3 run over all integers k.
  q = Math.exp(-PI_SQUARED / 2 / z2);
  let k2Extra = 0;
  let k3Extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxK; k >= 1; k--) {
    const k2 = k * k;
    const qPower = q ** k2;
    k2Extra += k2 * qPower;
    k3Extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * k2 * qPower;
  }
  terms[2] = terms[2]! + (k2Extra * PI_SQUARED * SQRT_TWO_PI) / (-36 * z2 * z);
  terms[3] = terms[3]! + (k3Extra * PI_SQUARED * SQRT_TWO_PI) / (216 * z6);
  let cdf = 0;
  for (let i = 0; i < 4; i++) cdf += terms[i]! / n ** (i / 2);
  return cdf;
}

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}
