// Turns feature rows into numeric vectors for the built-in models. What the encoder learns from the
// training rows (imputation values, standardisation, column order) is stored in the artifact, so a
// model loaded months later encodes exactly as it did when it was trained.
//
// Predict never throws on bad input: the API counts invalid values as data-quality findings, and here
// a value of the wrong type is imputed like a null, so one bad field cannot take the model down.
import { z } from 'zod';
import type { FeatureRow, FeatureSchema, FeatureSpec, FeatureValue } from '../domain.ts';

const encodedFeatureSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('numeric'),
    name: z.string(),
    /** Training median, used for nulls and invalid values. */
    fill: z.number(),
    /** Encoded as (x - center) / scale; 0 and 1 unless the model asked for standardisation. */
    center: z.number(),
    scale: z.number().positive(),
  }),
  z.object({
    type: z.literal('boolean'),
    name: z.string(),
    /** Training mode as 0/1. */
    fill: z.union([z.literal(0), z.literal(1)]),
  }),
  z.object({
    type: z.literal('categorical'),
    name: z.string(),
    /** One column per category, in schema order; a category outside this list encodes as all zeros. */
    categories: z.array(z.string()).min(1),
    /** Training mode; null when training saw no valid value, so a null then encodes as all zeros. */
    fill: z.string().nullable(),
  }),
]);
type EncodedFeature = z.infer<typeof encodedFeatureSchema>;

export const encoderStateSchema = z.object({ features: z.array(encodedFeatureSchema).min(1) });
export type EncoderState = z.infer<typeof encoderStateSchema>;

function isNumber(value: FeatureValue | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function median(sorted: number[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fitFeature(spec: FeatureSpec, rows: FeatureRow[], standardize: boolean): EncodedFeature {
  const values = rows.map((row) => row[spec.name]);
  switch (spec.type) {
    case 'numeric': {
      const valid = values.filter(isNumber).sort((a, b) => a - b);
      const mean = valid.reduce((sum, x) => sum + x, 0) / (valid.length || 1);
      const sd = Math.sqrt(valid.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (valid.length || 1));
      return {
        type: 'numeric',
        name: spec.name,
        fill: median(valid) ?? 0,
        center: standardize ? mean : 0,
        // A constant column has sd 0; leaving it unscaled keeps the encoding finite.
        scale: standardize && sd > 0 ? sd : 1,
      };
    }
    case 'boolean': {
      const trues = values.filter((v) => v === true).length;
      const falses = values.filter((v) => v === false).length;
      return { type: 'boolean', name: spec.name, fill: trues > falses ? 1 : 0 };
    }
    case 'categorical': {
      const counts = spec.categories.map((c) => values.filter((v) => v === c).length);
      const best = Math.max(...counts);
      return {
        type: 'categorical',
        name: spec.name,
        categories: spec.categories,
        fill: best > 0 ? spec.categories[counts.indexOf(best)]! : null,
      };
    }
  }
}

/**
 * Learns the encoding of `schema` from training rows. `standardize` centres and scales numeric features
 * (gradient-trained models need it; trees and least squares do not).
 */
export function fitEncoder(
  schema: FeatureSchema,
  rows: FeatureRow[],
  options: { standardize: boolean },
): EncoderState {
  return { features: schema.map((spec) => fitFeature(spec, rows, options.standardize)) };
}

function encodeFeature(feature: EncodedFeature, value: FeatureValue | undefined, out: number[]): void {
  switch (feature.type) {
    case 'numeric':
      out.push(((isNumber(value) ? value : feature.fill) - feature.center) / feature.scale);
      return;
    case 'boolean':
      out.push(typeof value === 'boolean' ? Number(value) : feature.fill);
      return;
    case 'categorical': {
      const category = typeof value === 'string' ? value : feature.fill;
      for (const c of feature.categories) out.push(c === category ? 1 : 0);
    }
  }
}

/** One numeric vector per row; features missing from a row are treated as null. */
export function encodeRows(state: EncoderState, rows: FeatureRow[]): number[][] {
  return rows.map((row) => {
    const out: number[] = [];
    for (const feature of state.features) encodeFeature(feature, row[feature.name], out);
    return out;
  });
}
