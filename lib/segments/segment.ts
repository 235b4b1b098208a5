// A segment: the rows of a model whose feature passes one comparison. Definitions (definition.ts) resolve
// to these; the monitor measures each segment's rows as it measures the whole window, and the gateway
// routes a row by the segments it belongs to. Zod-free and pure: the workflow reads segment names only,
// the monitor and the gateway test membership row by row.
import type { FeatureRow, FeatureValue } from '../domain.ts';

export const SEGMENT_OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
export type SegmentOp = (typeof SEGMENT_OPS)[number];

export interface Segment {
  /** Unique within the model; a categorical definition names its segments `feature=value`. */
  name: string;
  feature: string;
  op: SegmentOp;
  value: string | number | boolean;
}

/**
 * Whether a row belongs to the segment. A missing or null value belongs to no segment (not even to a
 * `ne` one): whether a row without the value is "not web" is unknown, and guessing would mix rows.
 */
export function inSegment(row: FeatureRow, segment: Segment): boolean {
  const v: FeatureValue | undefined = row[segment.feature];
  if (v === null || v === undefined) return false;
  switch (segment.op) {
    case 'eq':
      return v === segment.value;
    case 'ne':
      return v !== segment.value;
    case 'lt':
      return typeof v === 'number' && v < (segment.value as number);
    case 'le':
      return typeof v === 'number' && v <= (segment.value as number);
    case 'gt':
      return typeof v === 'number' && v > (segment.value as number);
    case 'ge':
      return typeof v === 'number' && v >= (segment.value as number);
  }
}

/** The names of the segments a row belongs to, in the segments' order. */
export function segmentsOf(row: FeatureRow, segments: readonly Segment[]): string[] {
  return segments.filter((s) => inSegment(row, s)).map((s) => s.name);
}
