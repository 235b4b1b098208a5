// The one shape every sequential detector has, after River's drift detectors: feed one value at a time
// with `update(x)`, read the flags. Detectors are pure and deterministic (no clock, no randomness, no
// I/O) so they can run inside Temporal workflow code, and their whole state is a plain JSON object so
// the agent workflow can carry it across `continueAsNew` and rebuild it with `createDetector`.

export const DETECTOR_KINDS = [
  'page_hinkley',
  'cusum',
  'adwin',
  'ddm',
  'hddm_a',
  'hddm_w',
  'robust_spike',
  'bernoulli_cusum',
] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

/** What one update concluded. */
export interface DetectorSignal {
  /**
   * A change was confirmed by this value. As in River, the detector starts afresh on the next
   * update, so one change raises one alarm; until then its state still holds the numbers that
   * caused the alarm, for evidence.
   */
  readonly drift: boolean;
  /** A change is suspected (warning zone); only DDM and the HDDM tests have one. */
  readonly warning: boolean;
  /** This single value is an outlier; says nothing about the values after it (spike detector only). */
  readonly anomaly: boolean;
}

export interface SequentialDetector<P, S> {
  readonly kind: DetectorKind;
  /** The parameters in force, defaults filled in. */
  readonly params: Readonly<P>;
  /** A JSON-serialisable copy of the state; `new Detector(params, state)` continues exactly from it. */
  readonly state: S;
  readonly driftDetected: boolean;
  readonly warningDetected: boolean;
  readonly anomalyDetected: boolean;
  update(x: number): DetectorSignal;
  /** Forgets everything seen so far; parameters are kept. */
  reset(): void;
}

/** Which direction of change in the mean a two-sided test watches. */
export type ChangeDirection = 'up' | 'down' | 'both';
export const CHANGE_DIRECTIONS: readonly ChangeDirection[] = ['up', 'down', 'both'];

// Shared frozen results: update() runs once per observation, so it should not allocate.
export const NO_SIGNAL: DetectorSignal = Object.freeze({ drift: false, warning: false, anomaly: false });
export const WARNING_SIGNAL: DetectorSignal = Object.freeze({ drift: false, warning: true, anomaly: false });
export const DRIFT_SIGNAL: DetectorSignal = Object.freeze({ drift: true, warning: false, anomaly: false });

export function signalOf(drift: boolean, warning: boolean): DetectorSignal {
  if (drift) return DRIFT_SIGNAL;
  return warning ? WARNING_SIGNAL : NO_SIGNAL;
}

/** Rejects a parameter with a message that names the detector, the parameter and the rule. */
export function requireParam(ok: boolean, detector: string, rule: string): void {
  if (!ok) throw new RangeError(`${detector}: ${rule}`);
}

/** The HDDM tests' two significance levels: 0 < driftConfidence < warningConfidence < 1. */
export function requireConfidences(
  p: { driftConfidence: number; warningConfidence: number },
  detector: string,
): void {
  requireParam(p.driftConfidence > 0 && p.driftConfidence < 1, detector, 'driftConfidence must be in (0, 1)');
  requireParam(
    p.warningConfidence > p.driftConfidence && p.warningConfidence < 1,
    detector,
    'warningConfidence must be in (driftConfidence, 1)',
  );
}

// A NaN or infinity would poison every later statistic of a detector, silently and for good.
export function requireFinite(x: number, detector: string): void {
  if (!Number.isFinite(x)) throw new RangeError(`${detector}: input must be a finite number, got ${x}`);
}

// The Bernoulli/Hoeffding bounds of DDM and HDDM only hold for values in [0, 1].
export function requireUnitInterval(x: number, detector: string): void {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`${detector}: input must be in [0, 1] (1 = error), got ${x}`);
}
