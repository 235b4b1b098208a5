// The generators against River 0.26 (test/fixtures/river-generators.json, written by
// scripts/reference/river_generators.py). River's random numbers differ from lib/sim/random.ts, so what
// is compared is (1) the labelling function, applied to the feature vectors River drew, against River's
// labels, and (2) the feature distribution: means and standard deviations (or frequencies) of the
// TypeScript generator's own draws against River's, within four standard errors.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AgrawalFeatures,
  type AgrawalFunction,
  agrawalLabel,
  createAgrawalStream,
} from '../../lib/sim/synthetic/agrawal.ts';
import { createConceptDriftStream, driftProbability } from '../../lib/sim/synthetic/concept-drift.ts';
import { createFriedmanStream, friedmanTarget } from '../../lib/sim/synthetic/friedman.ts';
import { createHyperplaneStream, hyperplaneLabel } from '../../lib/sim/synthetic/hyperplane.ts';
import { createLedStream, LED_FEATURES, LED_SEGMENTS, ledColumns } from '../../lib/sim/synthetic/led.ts';
import { createSeaStream, type SeaVariant, seaLabel } from '../../lib/sim/synthetic/sea.ts';
import { createSineStream, type SineFunction, sineLabel } from '../../lib/sim/synthetic/sine.ts';
import {
  createStaggerStream,
  STAGGER_COLORS,
  STAGGER_SHAPES,
  STAGGER_SIZES,
  type StaggerConcept,
  staggerLabel,
} from '../../lib/sim/synthetic/stagger.ts';
import { type Sample, type SyntheticStream, take } from '../../lib/sim/synthetic/stream.ts';

type Labelled<X> = { x: X; y: number };
type Stats = Record<string, { mean: number; sd: number }>;
const fixture = JSON.parse(
  fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'river-generators.json'), 'utf8'),
);
const N = fixture.meta.statsN as number;

/** Every numeric feature's mean within 4 standard errors of River's, and its sd within 5 %. */
function expectSameDistribution(stream: SyntheticStream, river: Stats, name: (key: string) => string) {
  const samples = take(stream, N);
  for (const [key, { mean, sd }] of Object.entries(river)) {
    const values = samples.map((s) => Number(s.x[name(key)]));
    const m = values.reduce((a, b) => a + b, 0) / N;
    const s = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / N);
    expect(Math.abs(m - mean), `${key} mean ${m} vs River ${mean}`).toBeLessThan((4 * sd) / Math.sqrt(N));
    expect(Math.abs(s - sd), `${key} sd ${s} vs River ${sd}`).toBeLessThan(0.05 * sd);
  }
}

describe('SEA against River', () => {
  it("labels River's feature vectors as River does, for every variant", () => {
    for (const [variant, rows] of Object.entries(fixture.sea.labelled) as [
      string,
      Labelled<Record<string, number>>[],
    ][]) {
      for (const { x, y } of rows) {
        expect(seaLabel({ x1: x['0']!, x2: x['1']!, x3: x['2']! }, Number(variant) as SeaVariant)).toBe(y);
      }
    }
  });
  it("draws features distributed as River's", () => {
    expectSameDistribution(createSeaStream({ seed: 1 }), fixture.sea.stats, (k) => `x${Number(k) + 1}`);
  });
});

describe('Agrawal against River', () => {
  const rows = fixture.agrawal.labelled as Record<string, Labelled<AgrawalFeatures>[]>;
  it('labels as River for the nine functions River implements as the paper does (River codes group A 1 in F1-F6, 0 in F7-F10; here always 0)', () => {
    for (const f of [0, 1, 2, 3, 5, 6, 7, 8, 9] as AgrawalFunction[]) {
      const riverCodesGroupA = f <= 5 ? 1 : 0;
      for (const { x, y } of rows[String(f)]!) {
        const groupA = y === riverCodesGroupA;
        expect(agrawalLabel(x, f), `F${f + 1} on ${JSON.stringify(x)}`).toBe(groupA ? 0 : 1);
      }
    }
  });
  it("labels F5 as River where River's F5 follows the paper (age < 40 with salary in [50k, 100k]; age >= 60 with a loan outside River's [75k, 100k) slip)", () => {
    const followed = rows['4']!.filter(
      ({ x }) =>
        (x.age < 40 && x.salary >= 50e3 && x.salary <= 100e3) ||
        (x.age >= 60 && !(x.loan >= 75e3 && x.loan < 100e3)),
    );
    expect(followed.length).toBeGreaterThan(30);
    for (const { x, y } of followed) expect(agrawalLabel(x, 4)).toBe(y === 1 ? 0 : 1);
  });
  it("draws features distributed as River's (not hvalue: River scales it by 8 - zipcode, MOA by 9; nor commission: River's reaches 85k, MOA's 75k)", () => {
    const { commission: _, ...stats } = fixture.agrawal.stats as Stats;
    expectSameDistribution(createAgrawalStream({ seed: 2 }), stats, (k) => k);
  });
});

describe('STAGGER against River', () => {
  it("labels River's vectors as River does (River codes size, colour and shape 0-2 in this order)", () => {
    for (const [concept, rows] of Object.entries(fixture.stagger.labelled) as [
      string,
      Labelled<Record<string, number>>[],
    ][]) {
      for (const { x, y } of rows) {
        const features = {
          size: STAGGER_SIZES[x.size!]!,
          color: STAGGER_COLORS[x.color!]!,
          shape: STAGGER_SHAPES[x.shape!]!,
        };
        expect(staggerLabel(features, Number(concept) as StaggerConcept)).toBe(y);
      }
    }
  });
  it('draws each value as often as River', () => {
    const samples = take(createStaggerStream({ seed: 3 }), N);
    const lists = { size: STAGGER_SIZES, color: STAGGER_COLORS, shape: STAGGER_SHAPES };
    for (const [feature, freqs] of Object.entries(fixture.stagger.stats) as [
      keyof typeof lists,
      Record<string, number>,
    ][]) {
      for (const [code, p] of Object.entries(freqs)) {
        const share = samples.filter((s) => s.x[feature] === lists[feature][Number(code)]).length / N;
        expect(Math.abs(share - p)).toBeLessThan(4 * Math.sqrt((2 * p * (1 - p)) / N));
      }
    }
  });
});

describe('Sine against River', () => {
  it("labels River's vectors as River does, for the four functions", () => {
    for (const [f, rows] of Object.entries(fixture.sine.labelled) as [
      string,
      Labelled<Record<string, number>>[],
    ][]) {
      for (const { x, y } of rows)
        expect(sineLabel({ x1: x['0']!, x2: x['1']! }, Number(f) as SineFunction)).toBe(y);
    }
  });
  it("draws features distributed as River's", () => {
    expectSameDistribution(createSineStream({ seed: 4 }), fixture.sine.stats, (k) => `x${Number(k) + 1}`);
  });
});

describe('Hyperplane against River', () => {
  it("labels River's vectors with River's weights as River does", () => {
    const weights = fixture.hyperplane.weights as number[];
    for (const { x, y } of fixture.hyperplane.labelled as Labelled<Record<string, number>>[]) {
      expect(
        hyperplaneLabel(
          Object.keys(x).map((k) => x[k]!),
          weights,
        ),
      ).toBe(y);
    }
  });
  it("draws features distributed as River's, and balanced labels", () => {
    const { y, ...features } = fixture.hyperplane.stats as Stats;
    expectSameDistribution(createHyperplaneStream({ seed: 6 }), features, (k) => `x${Number(k) + 1}`);
    const ours = take(createHyperplaneStream({ seed: 6 }), N).reduce((a, s) => a + s.y, 0) / N;
    expect(Math.abs(ours - y!.mean)).toBeLessThan(4 * Math.sqrt(0.5 / N));
  });
});

describe('LED against River', () => {
  it("has River's segments for every digit", () => {
    for (const { x, y } of fixture.led.labelled as Labelled<number[]>[])
      expect(x.slice(0, 7)).toEqual(LED_SEGMENTS[y]);
  });
  it("moves the segments where River's LEDDrift moves them, for some draw of its two offsets", () => {
    for (const { driftFeatures, samples } of fixture.led.drift as {
      driftFeatures: number;
      samples: Labelled<number[]>[];
    }[]) {
      const fits = (columns: number[]) =>
        samples.every(({ x, y }) => LED_SEGMENTS[y]!.every((segment, i) => x[columns[i]!] === segment));
      const found = Array.from({ length: 7 * 17 }, (_, k) =>
        ledColumns(driftFeatures, k % 7, Math.floor(k / 7)),
      ).filter(fits);
      expect(found.length, `${driftFeatures} drifting features`).toBeGreaterThan(0);
    }
  });
  it('draws digits and segments as often as River (10% noise)', () => {
    const samples = take(createLedStream({ seed: 8, noise: 0.1 }), N);
    for (const [digit, p] of Object.entries(fixture.led.stats.classes as Record<string, number>)) {
      const share = samples.filter((s) => s.y === Number(digit)).length / N;
      expect(Math.abs(share - p)).toBeLessThan(4 * Math.sqrt((2 * p * (1 - p)) / N));
    }
    // River inverts a segment with probability noise - 0.01 (its `0.01 + u <= noise`), here noise: the
    // means differ by at most 0.01 beyond sampling error.
    (fixture.led.stats.feature_means as number[]).forEach((p, i) => {
      const share = samples.reduce((a, s) => a + (s.x[LED_FEATURES[i]!] as number), 0) / N;
      expect(Math.abs(share - p)).toBeLessThan(0.01 + 4 * Math.sqrt((2 * p * (1 - p)) / N));
    });
  });
});

describe('Friedman against River', () => {
  const residuals = (rows: Labelled<Record<string, number>>[], concept: 0 | 1) =>
    rows.map(
      ({ x, y }) =>
        y -
        friedmanTarget(
          Object.fromEntries(Object.entries(x).map(([k, v]) => [`x${Number(k) + 1}`, v])),
          concept,
        ),
    );
  const expectStandardNormal = (r: number[]) => {
    const m = r.reduce((a, b) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a, v) => a + (v - m) ** 2, 0) / r.length);
    expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(r.length));
    expect(Math.abs(sd - 1)).toBeLessThan(0.15);
  };
  it("leaves N(0, 1) residuals on River's Friedman #1 targets", () =>
    expectStandardNormal(residuals(fixture.friedman.labelled, 0)));
  it("leaves N(0, 1) residuals on River's FriedmanDrift (global) drifted targets, and not with the old concept", () => {
    expectStandardNormal(residuals(fixture.friedman.drifted, 1));
    const old = residuals(fixture.friedman.drifted, 0);
    expect(Math.sqrt(old.reduce((a, v) => a + v * v, 0) / old.length)).toBeGreaterThan(3);
  });
  it("draws features distributed as River's", () => {
    expectSameDistribution(
      createFriedmanStream({ seed: 9 }),
      fixture.friedman.stats,
      (k) => `x${Number(k) + 1}`,
    );
  });
});

describe('ConceptDriftStream against River', () => {
  it("takes the new concept as often as River's over the change (SEA 0 -> 3 at 10,000 over 4,000 samples)", () => {
    const { position, width, bins } = fixture.conceptDrift as {
      position: number;
      width: number;
      bins: { from: number; to: number; discriminating: number; newConcept: number }[];
    };
    const stream = createConceptDriftStream<Sample>({
      seed: 13,
      stream: createSeaStream({ seed: 11, variant: 0 }),
      driftStream: createSeaStream({ seed: 12, variant: 3 }),
      position,
      width,
    });
    const ours = take(stream, bins.at(-1)!.to);
    for (const bin of bins) {
      const told = ours
        .slice(bin.from, bin.to)
        .filter(
          (s) =>
            8 < (s.x.x1 as number) + (s.x.x2 as number) && (s.x.x1 as number) + (s.x.x2 as number) <= 9.5,
        );
      const share = told.filter((s) => s.y === 0).length / told.length;
      const riverShare = bin.newConcept / bin.discriminating;
      const p = driftProbability((bin.from + bin.to) / 2, position, width);
      // Both near the sigmoid: two binomial errors apart at most.
      const bound =
        4 * Math.sqrt(Math.max(p * (1 - p), 0.01) * (1 / told.length + 1 / bin.discriminating)) + 0.05;
      expect(Math.abs(share - riverShare), `samples ${bin.from}-${bin.to}`).toBeLessThan(bound);
    }
  });
});
