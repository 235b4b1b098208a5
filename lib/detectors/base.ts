import { type DetectorKind, type DetectorSignal, type SequentialDetector, signalOf } from './types.ts';

/** The flags a detector's state may hold; a flag its state lacks is always false. */
export interface StateFlags {
  drift?: boolean;
  warning?: boolean;
  anomaly?: boolean;
}

/**
 * What every detector does the same way: fills in and freezes its parameters, keeps its whole state in
 * one plain object `s` (copied in and out, so a saved state is never shared), reads its flags from
 * that state, and restarts from `initialState()`. Subclasses write `update()`, the statistics.
 *
 * `initialState()` and `copyState()` run inside this constructor, so they may read `params` but no
 * field of the subclass.
 */
export abstract class DetectorBase<P extends object, S extends StateFlags>
  implements SequentialDetector<P, S>
{
  abstract readonly kind: DetectorKind;
  readonly params: Readonly<P>;
  protected s: S;

  /** `check` rejects invalid parameters (defaults filled in) before any state is built. */
  protected constructor(defaults: P, params: Partial<P>, state: S | undefined, check: (p: P) => void) {
    const p = { ...defaults, ...params };
    check(p);
    this.params = Object.freeze(p);
    this.s = state ? this.copyState(state) : this.initialState();
  }

  get state(): S {
    return this.copyState(this.s);
  }

  get driftDetected(): boolean {
    return this.s.drift === true;
  }

  get warningDetected(): boolean {
    return this.s.warning === true;
  }

  get anomalyDetected(): boolean {
    return this.s.anomaly === true;
  }

  abstract update(x: number): DetectorSignal;

  reset(): void {
    this.s = this.initialState();
  }

  protected abstract initialState(): S;

  /** A copy sharing nothing mutable with `s`; override when the state nests objects or arrays. */
  protected copyState(s: S): S {
    return { ...s };
  }

  /** River's restart: the value after an alarm starts afresh, so one change raises one alarm. */
  protected restartAfterDrift(): void {
    if (this.s.drift) this.reset();
  }
}

/**
 * The DDM family's conclusion: drift if the drift test passed, otherwise warning if the (laxer)
 * warning test did; both kept in the state and returned as the shared signal.
 */
export function settleDriftOrWarning(
  s: { drift: boolean; warning: boolean },
  drift: boolean,
  warning: boolean,
): DetectorSignal {
  s.drift = drift;
  s.warning = !drift && warning;
  return signalOf(s.drift, s.warning);
}
