// How many paired rows a one-sided test at level alpha needs to show a given improvement with a given
// power: the retrain sizes the evidence it waits for from the improvement it has seen so far, instead
// of judging whatever a fixed number of rows happens to show (lib/recovery/refit-evidence.ts).
// Checked against SciPy (scripts/reference/scipy_reference.py, "sampleSize").
import { normalQuantile } from '../stats/index.ts';

/**
 * Paired proportions (McNemar): rows needed when a row is one only the candidate gets right with
 * probability `candidateOnly` and one only production gets right with probability `productionOnly`.
 * Connor (1987), one-sided, with δ = candidateOnly − productionOnly and ψ = candidateOnly + productionOnly:
 *   n = (z₁₋α·√ψ + z_power·√(ψ − δ²))² / δ².
 * Infinite when the candidate is no better (δ ≤ 0): no number of rows shows an improvement that is not there.
 */
export function pairedProportionRows(
  candidateOnly: number,
  productionOnly: number,
  alpha: number,
  power: number,
): number {
  const delta = candidateOnly - productionOnly;
  if (!(delta > 0)) return Number.POSITIVE_INFINITY;
  const psi = candidateOnly + productionOnly;
  const zAlpha = normalQuantile(1 - alpha);
  const zPower = normalQuantile(power);
  return Math.ceil(
    (zAlpha * Math.sqrt(psi) + zPower * Math.sqrt(psi - delta * delta)) ** 2 / (delta * delta),
  );
}

/**
 * Paired means (paired t on per-row losses): rows needed to show a mean improvement `meanDifference`
 * when the per-row differences have standard deviation `sdDifference`. The normal approximation
 * ((z₁₋α + z_power)·sd/δ)² plus Guenther's (1981) z₁₋α²/2 for the t distribution's heavier tails, which
 * puts it within a row of the exact noncentral-t answer.
 */
export function pairedMeanRows(
  meanDifference: number,
  sdDifference: number,
  alpha: number,
  power: number,
): number {
  if (!(meanDifference > 0)) return Number.POSITIVE_INFINITY;
  const zAlpha = normalQuantile(1 - alpha);
  const zPower = normalQuantile(power);
  return Math.max(
    2,
    Math.ceil((((zAlpha + zPower) * sdDifference) / meanDifference) ** 2 + (zAlpha * zAlpha) / 2),
  );
}
