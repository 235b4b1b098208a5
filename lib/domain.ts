// Core domain vocabulary, shared by workflows (as types only), activities, the API and the dashboard.
// Each enumeration is defined once here; the database stores them as strings (prisma/models.prisma).
import { z } from 'zod';

export const TASKS = ['binary', 'multiclass', 'regression'] as const;
export type Task = (typeof TASKS)[number];

/** A model name doubles as part of a Temporal workflow id and a URL segment, so keep it plain. */
export const modelNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, "-" and "_", starting with a letter or digit');

const featureBase = {
  name: z.string().min(1).max(128),
  nullable: z.boolean().default(false),
};

/**
 * A schema bound's magnitude limit. SQLite keeps JSON numbers to 15 significant digits, so a bound within
 * a rounding of Number.MAX_VALUE (1.7976931348623157e308) comes back from it as infinity, that is null, and
 * the model's stored schema would no longer load.
 */
export const MAX_SCHEMA_BOUND = 1e308;
const schemaBound = z.number().min(-MAX_SCHEMA_BOUND).max(MAX_SCHEMA_BOUND).optional();

export const featureSpecSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...featureBase,
      type: z.literal('numeric'),
      min: schemaBound,
      max: schemaBound,
    })
    .refine((spec) => spec.min === undefined || spec.max === undefined || spec.min <= spec.max, {
      message: 'min must not be above max',
      path: ['min'],
    }),
  z.object({
    ...featureBase,
    type: z.literal('categorical'),
    categories: z.array(z.string()).min(1),
  }),
  z.object({ ...featureBase, type: z.literal('boolean') }),
]);
export type FeatureSpec = z.infer<typeof featureSpecSchema>;

export const featureSchemaSchema = z
  .array(featureSpecSchema)
  .min(1)
  .max(500)
  .refine((specs) => new Set(specs.map((s) => s.name)).size === specs.length, {
    message: 'feature names must be unique',
  });
export type FeatureSchema = z.infer<typeof featureSchemaSchema>;

/** The largest number the database's integer columns hold (PostgreSQL's integer is 32-bit). */
export const MAX_STORED_INT = 2 ** 31 - 1;

/** A model version's number: 1, 2, … per model. */
export const versionNumberSchema = z.number().int().min(1).max(MAX_STORED_INT);

/**
 * Free text a person types (a reason, an actor): trimmed, then 1 to `max` characters. The pattern says in
 * the OpenAPI document what trimming means (blank text is refused) and that U+0000 is refused too
 * (api/input.ts: PostgreSQL cannot store it), in the one pattern OpenAPI 3.0 allows a schema.
 */
export const trimmedText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is named to be refused
    .regex(/^[^\u0000]*[^\s\u0000][^\u0000]*$/, 'must not be blank, nor hold the NUL character');

/** Who acts, as an API caller names them (the API records it with the key's or person's name). */
export const apiActor = trimmedText(100).optional();

export const featureValueSchema = z.union([z.number(), z.string(), z.boolean(), z.null()]);
export type FeatureValue = z.infer<typeof featureValueSchema>;
export type FeatureRow = Record<string, FeatureValue>;

export const VERSION_STATUSES = [
  'candidate',
  'shadow',
  'canary',
  'production',
  'fallback',
  'retired',
  'rejected',
] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const SERVING_MODES = ['serving', 'fallback', 'disabled'] as const;
export type ServingMode = (typeof SERVING_MODES)[number];

export const FINDING_KINDS = [
  'data_drift',
  'concept_drift',
  'anomaly',
  'data_quality',
  'latency',
  'failures',
  'stale_data',
  /** The user's own finding rules (docs/extending.md). */
  'custom',
  /** One segment of the traffic (lib/segments) performs worse while the others hold. */
  'segment',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_STATES = ['suspect', 'confirmed', 'recovering', 'clear'] as const;
export type FindingState = (typeof FINDING_STATES)[number];

/** A model's health as the agent, the API and the dashboard report it. */
export const HEALTHS = ['healthy', 'degraded', 'recovering', 'escalated', 'paused', 'starting'] as const;
export type Health = (typeof HEALTHS)[number];

/** `webhook`: the user's own system (a rollout controller, a CI job) is asked to act (docs/extending.md). */
export const ACTION_TYPES = [
  'none',
  'alert',
  'rollback',
  'retrain',
  'fallback',
  'disable',
  'webhook',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

/**
 * `rebaselined`: closed without a repair because none could serve materially better (the metric's level
 * changed, not the model's quality); the agent took the new level as its baseline and alerted.
 */
export const INCIDENT_STATUSES = [
  'open',
  'mitigating',
  'verifying',
  'recovered',
  'rebaselined',
  'escalated',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/**
 * API roles. `ingest` may only send traffic (predictions, labels, the gateway); `viewer` reads;
 * `operator` also changes models, deployments and agents; `admin` also manages API keys.
 */
export const ROLES = ['ingest', 'viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What each role may do beyond its own name: admin ⊃ operator ⊃ viewer; ingest stands alone. The API
 * enforces it (api/auth.ts); the dashboard shows a person only the controls it grants.
 */
export const GRANTS: Record<Role, Role[]> = {
  ingest: ['ingest'],
  viewer: ['viewer'],
  operator: ['operator', 'viewer'],
  admin: ['admin', 'operator', 'viewer', 'ingest'],
};
