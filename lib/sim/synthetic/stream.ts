// The shape every synthetic stream shares, and the small helpers the generators have in common.
import { Random } from '../random.ts';

export type Features = Record<string, number | string>;

export interface Sample<X extends Features = Features, Y extends number | string = number | string> {
  x: X;
  y: Y;
}

/** An endless, seeded stream of labelled samples: the same seed always yields the same sequence. */
export interface SyntheticStream<S extends Sample = Sample> {
  next(): S;
}

export type BinaryLabel = 0 | 1;

export function take<S extends Sample>(stream: SyntheticStream<S>, count: number): S[] {
  return Array.from({ length: count }, () => stream.next());
}

/**
 * Independent seeds for the parts of a composed stream. Consecutive integers are not used directly so that
 * no two parts can ever share a random sequence.
 */
export function childSeeds(seed: number, count: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => rng.int(0, 0xffffffff));
}

/**
 * The generators always draw the noise variate, even when `rate` is 0, so that the features of a seeded
 * stream do not depend on its noise level.
 */
export function withLabelNoise(rng: Random, y: BinaryLabel, rate: number): BinaryLabel {
  return rng.bernoulli(rate) ? (y === 0 ? 1 : 0) : y;
}

export function checkRange(name: string, value: number, min: number, max: number): void {
  if (!(value >= min && value <= max))
    throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`);
}

export function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`);
  checkRange(name, value, min, max);
}
