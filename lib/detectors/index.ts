// Sequential change detectors for error and metric streams: one shape (see types.ts), one registry.
export * from './adwin.ts';
export * from './bernoulli-cusum.ts';
export * from './cusum.ts';
export * from './ddm.ts';
export * from './hddm-a.ts';
export * from './hddm-w.ts';
export * from './page-hinkley.ts';
export * from './registry.ts';
export * from './robust-spike.ts';
export type { ChangeDirection, DetectorKind, DetectorSignal, SequentialDetector } from './types.ts';
export { DETECTOR_KINDS } from './types.ts';
