// A model's deployment history for a backtest (docs/backtest.md, "Deployment history"): the deployment
// changes people made — the first deployment, a release of a new version, a restore by hand — with their
// times on the stream's clock, the deployment each one sets, and the artifact (and reference profile) of
// every version they name. The agent's own changes (its remedies) are not in it: a backtest decides
// those itself. `npm run backtest -- export --deployments-out` writes one from the store; `--deployments`
// replays it.
import { z } from 'zod';
import {
  type FeatureSchema,
  featureSchemaSchema,
  SERVING_MODES,
  type ServingMode,
  TASKS,
  type Task,
} from '../domain.ts';
import { describeIssues, type ModelArtifact, parseModelArtifact } from '../models/index.ts';
import { REFERENCE_PROFILE_FORMAT, type ReferenceProfile } from '../monitor/index.ts';
import { BacktestInputError, readJsonFile } from './stream-file.ts';
import { isoTime } from './windows.ts';

export const DEPLOYMENTS_FORMAT = 1;

/** One deployment change as the file holds it: the whole deployment it sets, not a difference. */
export interface DeploymentChangeRecord {
  /** The revision number it had where it was recorded (the backtest numbers its own). */
  revision: number;
  /** When it was made, ISO 8601, on the stream's clock (the store's receipt times). */
  at: string;
  /** Who made it (DeploymentRevision.actor): never "agent". */
  actor: string;
  reason: string;
  mode: ServingMode;
  production: number | null;
  fallback: number | null;
  canary: { version: number; share: number } | null;
  shadow: number | null;
  /** The revision it brought back, for a restore. */
  restoredFrom: number | null;
}

export interface DeploymentVersionRecord {
  version: number;
  /** The artifact (lib/models/types.ts): what the backtest scores rows with. */
  artifact: unknown;
  /**
   * The registry's reference profile of the version (ModelVersion.referenceStats): the monitor compares
   * production's traffic against it, and its performance is the version's baseline. Null or absent: the
   * reference rows (--train-rows) give one, else drift is not judged, as in the registry.
   */
  reference?: unknown;
}

/** The file `--deployments` reads and `--deployments-out` writes. */
export interface DeploymentHistoryFile {
  format: typeof DEPLOYMENTS_FORMAT;
  model: string;
  task: Task;
  /** Class labels of a classifier, in order; null for a regressor. */
  classes: string[] | null;
  /** The model's feature schema: the stream is read with it when --schema is not given. */
  schema: FeatureSchema;
  /** In time order. */
  changes: DeploymentChangeRecord[];
  versions: DeploymentVersionRecord[];
}

/** A change read from the file: its time in epoch ms. */
export interface DeploymentChange extends Omit<DeploymentChangeRecord, 'at'> {
  at: number;
}

export interface DeploymentHistory {
  model: string;
  task: Task;
  classes: string[] | null;
  schema: FeatureSchema;
  changes: DeploymentChange[];
  versions: { version: number; artifact: ModelArtifact; reference: ReferenceProfile | null }[];
}

const versionNumber = z.number().int().min(1);
const changeSchema = z.strictObject({
  revision: z.number().int().min(1),
  at: isoTime,
  actor: z.string().min(1),
  reason: z.string(),
  mode: z.enum(SERVING_MODES),
  production: versionNumber.nullable(),
  fallback: versionNumber.nullable(),
  canary: z.strictObject({ version: versionNumber, share: z.number().gt(0).lt(1) }).nullable(),
  shadow: versionNumber.nullable(),
  restoredFrom: z.number().int().min(1).nullable(),
});
const fileSchema = z.strictObject({
  format: z.literal(DEPLOYMENTS_FORMAT),
  model: z.string().min(1),
  task: z.enum(TASKS),
  classes: z.array(z.string()).nullable(),
  schema: featureSchemaSchema,
  changes: z.array(changeSchema),
  versions: z.array(
    z.strictObject({ version: versionNumber, artifact: z.unknown(), reference: z.unknown().optional() }),
  ),
});

/** The versions a change names, by role. */
export function versionsOf(change: Omit<DeploymentChangeRecord, 'at'>): [string, number][] {
  const named: [string, number | null][] = [
    ['production', change.production],
    ['fallback', change.fallback],
    ['canary', change.canary?.version ?? null],
    ['shadow', change.shadow],
  ];
  return named.filter((n): n is [string, number] => n[1] !== null);
}

/** Validates a deployment history; every problem names where it is in the file. */
export function parseDeploymentHistory(json: unknown, file: string): DeploymentHistory {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw new BacktestInputError(`${file}: not a deployment history: ${describeIssues(parsed.error)}`);
  }
  const doc = parsed.data;
  const problem = (message: string) => new BacktestInputError(`${file}: ${message}`);
  if (doc.changes.length === 0) throw problem('changes: the history has no deployment change');

  const versions: DeploymentHistory['versions'] = [];
  doc.versions.forEach((v, i) => {
    if (versions.some((w) => w.version === v.version))
      throw problem(`versions.${i}: version ${v.version} is listed twice`);
    let artifact: ModelArtifact;
    try {
      artifact = parseModelArtifact(v.artifact);
    } catch (error) {
      throw problem(`versions.${i} (version ${v.version}): ${(error as Error).message}`);
    }
    if (artifact.task !== doc.task)
      throw problem(
        `versions.${i} (version ${v.version}): the artifact is for a ${artifact.task} task, the model's is ${doc.task}`,
      );
    versions.push({
      version: v.version,
      artifact,
      reference: referenceProfile(v.reference, doc.task, i, problem),
    });
  });

  let previous = Number.NEGATIVE_INFINITY;
  const changes = doc.changes.map((c, i): DeploymentChange => {
    const at = Date.parse(c.at);
    if (at < previous) throw problem(`changes.${i}: at ${c.at} is before the change above it`);
    previous = at;
    if (c.actor === 'agent')
      throw problem(
        `changes.${i}: a change by the agent (revision ${c.revision}); the history holds people's changes, the backtest decides the agent's`,
      );
    for (const [role, n] of versionsOf(c)) {
      if (!versions.some((v) => v.version === n))
        throw problem(
          `changes.${i} (revision ${c.revision}): the ${role} version ${n} has no artifact in "versions"`,
        );
    }
    if (c.mode === 'serving' && c.production === null)
      throw problem(`changes.${i} (revision ${c.revision}): serving mode needs a production version`);
    if (c.mode === 'fallback' && c.fallback === null)
      throw problem(`changes.${i} (revision ${c.revision}): fallback mode needs a fallback version`);
    return { ...c, at };
  });
  return { model: doc.model, task: doc.task, classes: doc.classes, schema: doc.schema, changes, versions };
}

function referenceProfile(
  json: unknown,
  task: Task,
  index: number,
  problem: (message: string) => BacktestInputError,
): ReferenceProfile | null {
  if (json === undefined || json === null) return null;
  const p = json as Partial<ReferenceProfile>;
  if (typeof json !== 'object' || p.format !== REFERENCE_PROFILE_FORMAT || !Array.isArray(p.features))
    throw problem(
      `versions.${index}.reference: not a reference profile (format ${REFERENCE_PROFILE_FORMAT}, lib/monitor/reference.ts)`,
    );
  if (p.task !== task)
    throw problem(`versions.${index}.reference: a profile of a ${p.task} model, the model's task is ${task}`);
  return json as ReferenceProfile;
}

export function readDeploymentsFile(file: string): DeploymentHistory {
  return parseDeploymentHistory(readJsonFile(file, 'deployments'), file);
}
