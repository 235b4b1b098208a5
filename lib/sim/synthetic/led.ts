// LED display digits (Breiman et al., "Classification and Regression Trees", 1984), as defined by MOA's
// LEDGenerator.java / LEDGeneratorDrift.java and River's datasets/synth/led.py (LED, LEDDrift): a digit
// 0-9 drawn uniformly, its seven segments as 0/1 features, each inverted with probability `noise`, and 17
// irrelevant random 0/1 features. Drift swaps `driftFeatures` segments with irrelevant features, so the
// digit moves to other columns while every column keeps its distribution: a pure concept change.
// River inverts a segment when 0.01 + u <= noise (a probability of noise - 0.01); MOA's is noise itself.
import { Random } from '../random.ts';
import { checkInteger, checkRange, type SyntheticStream } from './stream.ts';

/** Segments of each digit, in River's order. */
export const LED_SEGMENTS: readonly (readonly number[])[] = [
  [1, 1, 1, 0, 1, 1, 1],
  [0, 0, 1, 0, 0, 1, 0],
  [1, 0, 1, 1, 1, 0, 1],
  [1, 0, 1, 1, 0, 1, 1],
  [0, 1, 1, 1, 0, 1, 0],
  [1, 1, 0, 1, 0, 1, 1],
  [1, 1, 0, 1, 1, 1, 1],
  [1, 0, 1, 0, 0, 1, 0],
  [1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 1, 1],
];
const RELEVANT = 7;
const IRRELEVANT = 17;
export const LED_FEATURES = Array.from({ length: RELEVANT + IRRELEVANT }, (_, i) => `s${i + 1}`);

/**
 * Where each of the 24 attributes goes, as River's LEDDrift swaps them: segment (i + r) mod 7 with
 * irrelevant attribute 7 + (i + o) mod 17 for i < driftFeatures, r and o drawn once per stream.
 */
export function ledColumns(driftFeatures: number, r: number, o: number): number[] {
  const columns = LED_FEATURES.map((_, i) => i);
  for (let i = 0; i < driftFeatures; i++) {
    const a = (i + r) % RELEVANT;
    const b = RELEVANT + ((i + o) % IRRELEVANT);
    columns[a] = b;
    columns[b] = a;
  }
  return columns;
}

export interface LedOptions {
  seed: number;
  /** Probability that a segment is inverted; MOA's default is 0.1. */
  noise?: number;
  /** How many segments swap places with irrelevant features; 0 (the default) is River's LED. */
  driftFeatures?: number;
  /** Seed of the swap; streams sharing it (and driftFeatures) share the concept. Defaults to `seed`. */
  modelSeed?: number;
}

export function createLedStream({
  seed,
  noise = 0.1,
  driftFeatures = 0,
  modelSeed = seed,
}: LedOptions): SyntheticStream<{ x: Record<string, number>; y: number }> {
  checkRange('noise', noise, 0, 1);
  checkInteger('driftFeatures', driftFeatures, 0, RELEVANT);
  const model = new Random(modelSeed);
  const columns = ledColumns(driftFeatures, model.int(0, RELEVANT - 1), model.int(0, IRRELEVANT - 1));
  const rng = new Random(seed);
  return {
    next() {
      const y = rng.int(0, 9);
      const values = LED_FEATURES.map((_, i) => {
        if (i >= RELEVANT) return rng.int(0, 1);
        const segment = LED_SEGMENTS[y]![i]!;
        return rng.bernoulli(noise) ? 1 - segment : segment;
      });
      const x: Record<string, number> = {};
      values.forEach((v, i) => {
        x[LED_FEATURES[columns[i]!]!] = v;
      });
      return { x, y };
    },
  };
}
