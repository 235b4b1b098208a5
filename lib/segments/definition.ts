// A model's segment definitions, as a user writes them (PUT /v1/models/{model}/segments), and their
// resolution against the model's feature schema into segments (segment.ts). Two forms:
//  - `{ "by": "channel" }`: one segment per value of a categorical (or boolean) feature, named
//    `channel=web`, `channel=app`, …; rows with a value outside the schema's categories are in none;
//  - `{ "name": "large", "feature": "amount", "op": "gt", "value": 10000 }`: the rows one comparison picks.
// Stored as written (Model.segments), checked against the schema when written; a model's schema is fixed
// at registration, so they keep fitting and are resolved where used.
import { z } from 'zod';
import type { FeatureSchema, FeatureSpec } from '../domain.ts';
import { SEGMENT_OPS, type Segment } from './segment.ts';

/**
 * Segments a model may have in all. Every segment adds a row to each window summary the agent carries in
 * its workflow history (about 150 bytes), is measured on its own rows (a segment with few rows a window
 * is rarely judged), and is one more test in the multiple-testing correction across segments, which
 * makes each harder to flag: 20 keeps all three small.
 */
export const MAX_SEGMENTS = 20;

const segmentName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.=:-]*$/, 'letters, digits and "_.=:-", starting with a letter or digit');

export const segmentDefinitionSchema = z.union([
  z.strictObject({
    /** A categorical or boolean feature: one segment per value. */
    by: z.string().min(1).max(128),
  }),
  z.strictObject({
    name: segmentName,
    feature: z.string().min(1).max(128),
    op: z.enum(SEGMENT_OPS),
    value: z.union([z.number(), z.string().min(1).max(128), z.boolean()]),
  }),
]);
export type SegmentDefinition = z.infer<typeof segmentDefinitionSchema>;

export const segmentsBody = z.strictObject({
  segments: z.array(segmentDefinitionSchema).max(MAX_SEGMENTS),
});

/** Why definitions do not fit a schema: one message per problem, with the definition's index. */
export interface SegmentIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Resolves definitions against a feature schema: the segments, or every problem found (a feature the
 * schema lacks, a comparison its type does not have, a category it does not list, a name used twice,
 * more than MAX_SEGMENTS segments in all).
 */
export function resolveSegments(
  definitions: readonly SegmentDefinition[],
  schema: FeatureSchema,
): { segments: Segment[]; issues: SegmentIssue[] } {
  const features = new Map(schema.map((f) => [f.name, f]));
  const segments: Segment[] = [];
  const issues: SegmentIssue[] = [];
  definitions.forEach((d, i) => {
    const resolved = resolveOne(d, features);
    if (Array.isArray(resolved)) segments.push(...resolved);
    else issues.push({ path: [i, resolved.field], message: resolved.message });
  });
  const seen = new Set<string>();
  for (const s of segments) {
    if (seen.has(s.name)) issues.push({ path: [], message: `segment "${s.name}" is defined twice` });
    seen.add(s.name);
  }
  if (segments.length > MAX_SEGMENTS) {
    issues.push({
      path: [],
      message: `the definitions make ${segments.length} segments; a model has at most ${MAX_SEGMENTS}`,
    });
  }
  return { segments: issues.length === 0 ? segments : [], issues };
}

/** One definition's segments, or the field at fault and why. */
function resolveOne(
  d: SegmentDefinition,
  features: ReadonlyMap<string, FeatureSpec>,
): Segment[] | { field: string; message: string } {
  if ('by' in d) {
    const spec = features.get(d.by);
    if (!spec) return { field: 'by', message: `no feature "${d.by}" in the schema` };
    if (spec.type === 'numeric') {
      return {
        field: 'by',
        message: `"${d.by}" is numeric: segment it by a rule (feature, op, value), not by its values`,
      };
    }
    const values: (string | boolean)[] = spec.type === 'boolean' ? [true, false] : spec.categories;
    return values.map((value) => ({ name: `${d.by}=${value}`, feature: d.by, op: 'eq', value }));
  }
  const spec = features.get(d.feature);
  if (!spec) return { field: 'feature', message: `no feature "${d.feature}" in the schema` };
  if (spec.type === 'numeric' && typeof d.value !== 'number') {
    return { field: 'value', message: `"${d.feature}" is numeric: the value must be a number` };
  }
  if (spec.type !== 'numeric' && d.op !== 'eq' && d.op !== 'ne') {
    return { field: 'op', message: `"${d.feature}" is ${spec.type}: only eq and ne compare its values` };
  }
  if (spec.type === 'boolean' && typeof d.value !== 'boolean') {
    return { field: 'value', message: `"${d.feature}" is boolean: the value must be true or false` };
  }
  if (spec.type === 'categorical' && !spec.categories.includes(d.value as string)) {
    const listed = spec.categories.join(', ');
    return {
      field: 'value',
      message: `"${d.feature}" has no category ${JSON.stringify(d.value)} (it has ${listed})`,
    };
  }
  return [{ name: d.name, feature: d.feature, op: d.op, value: d.value }];
}

/** The segments of a model as stored (Model.segments; null: none). */
export function storedSegments(stored: unknown, schema: FeatureSchema): Segment[] {
  if (stored === null || stored === undefined) return [];
  const { segments, issues } = resolveSegments(z.array(segmentDefinitionSchema).parse(stored), schema);
  if (issues.length > 0) throw new Error(`stored segments do not fit the schema: ${issues[0]!.message}`);
  return segments;
}
