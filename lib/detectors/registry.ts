// Detectors by name, so the agent can keep `{ kind, params, state }` in its workflow state (or any JSON
// store) and rebuild the very same detector after `continueAsNew` or a restart.
import { Adwin, type AdwinParams, type AdwinState } from './adwin.ts';
import { BernoulliCusum, type BernoulliCusumParams, type BernoulliCusumState } from './bernoulli-cusum.ts';
import { Cusum, type CusumParams, type CusumState } from './cusum.ts';
import { Ddm, type DdmParams, type DdmState } from './ddm.ts';
import { HddmA, type HddmAParams, type HddmAState } from './hddm-a.ts';
import { HddmW, type HddmWParams, type HddmWState } from './hddm-w.ts';
import { PageHinkley, type PageHinkleyParams, type PageHinkleyState } from './page-hinkley.ts';
import { RobustSpikeDetector, type RobustSpikeParams, type RobustSpikeState } from './robust-spike.ts';
import type { DetectorKind } from './types.ts';

interface DetectorTypes {
  page_hinkley: { params: PageHinkleyParams; state: PageHinkleyState; detector: PageHinkley };
  cusum: { params: CusumParams; state: CusumState; detector: Cusum };
  adwin: { params: AdwinParams; state: AdwinState; detector: Adwin };
  ddm: { params: DdmParams; state: DdmState; detector: Ddm };
  hddm_a: { params: HddmAParams; state: HddmAState; detector: HddmA };
  hddm_w: { params: HddmWParams; state: HddmWState; detector: HddmW };
  robust_spike: { params: RobustSpikeParams; state: RobustSpikeState; detector: RobustSpikeDetector };
  bernoulli_cusum: { params: BernoulliCusumParams; state: BernoulliCusumState; detector: BernoulliCusum };
}

export type AnyDetector = DetectorTypes[DetectorKind]['detector'];

/** How to build a detector: a new one from (partial) parameters, or a saved one when `state` is given. */
export type DetectorSpec = {
  [K in DetectorKind]: {
    kind: K;
    params?: Partial<DetectorTypes[K]['params']>;
    state?: DetectorTypes[K]['state'];
  };
}[DetectorKind];

/** Everything needed to rebuild a detector exactly; plain JSON. */
export type DetectorSnapshot = {
  [K in DetectorKind]: { kind: K; params: DetectorTypes[K]['params']; state: DetectorTypes[K]['state'] };
}[DetectorKind];

export function createDetector(spec: DetectorSpec): AnyDetector {
  switch (spec.kind) {
    case 'page_hinkley':
      return new PageHinkley(spec.params, spec.state);
    case 'cusum':
      return new Cusum(spec.params, spec.state);
    case 'adwin':
      return new Adwin(spec.params, spec.state);
    case 'ddm':
      return new Ddm(spec.params, spec.state);
    case 'hddm_a':
      return new HddmA(spec.params, spec.state);
    case 'hddm_w':
      return new HddmW(spec.params, spec.state);
    case 'robust_spike':
      return new RobustSpikeDetector(spec.params, spec.state);
    case 'bernoulli_cusum':
      return new BernoulliCusum(spec.params, spec.state);
    default:
      // Reached only by JSON written by another version of Homeostat.
      throw new RangeError(`unknown detector kind "${(spec as { kind: unknown }).kind}"`);
  }
}

export function snapshotDetector(detector: AnyDetector): DetectorSnapshot {
  return {
    kind: detector.kind,
    params: structuredClone(detector.params),
    state: detector.state,
  } as DetectorSnapshot;
}
