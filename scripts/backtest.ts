// Backtest: replays a historical stream file through the agent's monitor, detect and decide code in
// simulated time (lib/backtest), or exports a model's recorded stream from the store in that format.
// Run `npm run backtest -- --help`. Exit codes: 0 done, 2 bad input or usage, 1 anything else.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type DeploymentHistory, readDeploymentsFile } from '../lib/backtest/deployments.ts';
import { exportStream } from '../lib/backtest/export.ts';
import { BACKTEST_DEFAULTS, runBacktest } from '../lib/backtest/replay.ts';
import { formatSummary } from '../lib/backtest/report.ts';
import {
  BacktestInputError,
  parseTask,
  readJsonFile,
  readSchemaFile,
  readStreamFile,
} from '../lib/backtest/stream-file.ts';
import { exportWindows, readWindowsFile } from '../lib/backtest/windows.ts';
import { createStore } from '../lib/db/client.ts';
import type { FeatureSchema } from '../lib/domain.ts';
import { findingRulesFromEnv } from '../lib/extensions/finding-rules.ts';
import {
  describeIssues,
  type ModelArtifact,
  parseModelArtifact,
  type TrainerKind,
} from '../lib/models/index.ts';
import { type Policy, parsePolicy } from '../lib/policy/policy.ts';
import { BUILT_IN_TRAINERS } from '../lib/registry/versions.ts';
import { resolveSegments, segmentsBody } from '../lib/segments/definition.ts';
import type { Segment } from '../lib/segments/segment.ts';
import { STREAM_FORMATS, type StreamFormat } from '../lib/sim/writers.ts';

const USAGE = `usage: npm run backtest -- <stream.csv|stream.jsonl> (--model <artifact.json> | --train-rows <n> | --deployments <file>) [options]
       npm run backtest -- export --model <name> --out <stream.jsonl> [--schema-out <file>] [--artifact-out <file>]
                              [--deployments-out <file>] [--windows-out <file>]

Replay (docs/backtest.md describes the file format):
  --model <file>        the production version's artifact (JSON, lib/models/types.ts)
  --train-rows <n>      train version 1 on the first n rows (the reference; not replayed); with --model
                        or --deployments, the first n rows are the versions' reference instead
  --trainer <kind>      trainer for --train-rows: ${BUILT_IN_TRAINERS.join(', ')}
                        (default: logistic-regression, or linear-regression for regression)
  --fallback <file>     a fallback version's artifact
  --deployments <file>  the deployment history (written by export --deployments-out): each change a person
                        made is applied at its time, and every row is scored by the version serving it
                        (not by its recorded prediction); --model and --fallback are then needed only
                        for rows before its first change
  --task <task>         binary, multiclass or regression (default: the model's or the deployment
                        history's, else inferred from the labels)
  --windows <file>      judge the windows recorded live (written by export --windows-out) instead of
                        cutting them by the policy: the same rows in the same windows as the agent
  --schema <file>       the feature schema (JSON array, lib/domain.ts); when absent, the deployment
                        history's, else inferred from the file
  --segments <file>     segment definitions (JSON, as PUT /v1/models/{model}/segments takes them: { "segments":
                        [...] }): each segment is measured and judged on its own, as the live agent does
  --policy <file>       the policy to try (.json, or .yaml/.yml with the yaml package); the defaults when absent
  --format <f>          ${STREAM_FORMATS.join(' or ')}, when the file name does not say
  --out <file>          write the JSON report here
  --approvals <how>     grant (default): approvals are given at once; expire: nobody answers
  --progress-every <n>  a progress line on stderr every n windows (default ${BACKTEST_DEFAULTS.progressEvery})
  -h, --help            print this help

Export (reads DATABASE_URL like the other scripts):
  --model <name>        the registered model whose recorded predictions and labels to export
  --out <file>          the JSONL file to write
  --schema-out <file>   also write the model's feature schema
  --artifact-out <file> also write the artifact of the version that served the first exported row
  --deployments-out <file>
                        also write the deployment history: the changes people made (not the agent's),
                        with the artifact and reference profile of every version they name
  --windows-out <file>  also write the windows the model's agent measured (their start and end)`;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        'train-rows': { type: 'string' },
        trainer: { type: 'string' },
        fallback: { type: 'string' },
        deployments: { type: 'string' },
        'deployments-out': { type: 'string' },
        windows: { type: 'string' },
        segments: { type: 'string' },
        'windows-out': { type: 'string' },
        task: { type: 'string' },
        schema: { type: 'string' },
        policy: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        approvals: { type: 'string' },
        'progress-every': { type: 'string' },
        'schema-out': { type: 'string' },
        'artifact-out': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new BacktestInputError((error as Error).message);
  }
}

type Values = ReturnType<typeof parse>['values'];

function positiveInteger(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new BacktestInputError(`--${flag} must be a positive integer, got "${text}"`);
  }
  return Number(text);
}

function readArtifact(file: string): ModelArtifact {
  try {
    return parseModelArtifact(readJsonFile(file, 'model'));
  } catch (error) {
    if (error instanceof BacktestInputError) throw error;
    throw new BacktestInputError(`${file}: ${(error as Error).message}`);
  }
}

async function readPolicy(file: string | undefined): Promise<Policy> {
  let document: unknown = {};
  if (file !== undefined && /\.ya?ml$/i.test(file)) {
    // YAML is optional: the package is loaded only for a YAML policy (a variable keeps tsc from resolving it).
    const yamlPackage = 'yaml';
    const yaml = (await import(yamlPackage).catch(() => null)) as { parse(text: string): unknown } | null;
    if (!yaml)
      throw new BacktestInputError(
        `${file}: reading YAML needs the "yaml" package; or give the policy as JSON`,
      );
    try {
      document = yaml.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new BacktestInputError(`${file}: ${(error as Error).message}`);
    }
  } else if (file !== undefined) document = readJsonFile(file, 'policy');
  const parsed = parsePolicy(document);
  if (!parsed.ok) {
    throw new BacktestInputError(
      `${file}: invalid policy: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.policy;
}

function readSegmentsFile(file: string, schema: FeatureSchema): Segment[] {
  const parsed = segmentsBody.safeParse(readJsonFile(file, 'segments'));
  if (!parsed.success) throw new BacktestInputError(`${file}: ${describeIssues(parsed.error)}`);
  const { segments, issues } = resolveSegments(parsed.data.segments, schema);
  if (issues.length > 0) {
    const listed = issues.map((i) => `${['segments', ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new BacktestInputError(`${file}: ${listed}`);
  }
  return segments;
}

function only<T extends string>(flag: string, known: readonly T[], text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  const match = known.find((k) => k === text);
  if (!match) throw new BacktestInputError(`--${flag} must be one of ${known.join(', ')}, got "${text}"`);
  return match;
}

async function replay(file: string, values: Values): Promise<void> {
  const model = values.model === undefined ? undefined : readArtifact(values.model);
  const fallback = values.fallback === undefined ? undefined : readArtifact(values.fallback);
  const trainRows = positiveInteger('train-rows', values['train-rows']);
  const deployments: DeploymentHistory | undefined =
    values.deployments === undefined ? undefined : readDeploymentsFile(values.deployments);
  if (!model && trainRows === undefined && !deployments)
    throw new BacktestInputError(
      'give --model <artifact.json>, --train-rows <n> or --deployments <deployments.json>',
    );
  const trainer = only<TrainerKind>('trainer', BUILT_IN_TRAINERS, values.trainer);
  const task = values.task === undefined ? (model?.task ?? deployments?.task) : parseTask(values.task);
  const policy = await readPolicy(values.policy);
  const stream = readStreamFile(file, {
    format: only<StreamFormat>('format', STREAM_FORMATS, values.format),
    schema: values.schema === undefined ? deployments?.schema : readSchemaFile(values.schema),
    task,
    classes: model && 'classes' in model ? model.classes : (deployments?.classes ?? undefined),
    schemaFrom: model ? undefined : trainRows,
  });
  const report = await runBacktest({
    stream,
    policy,
    model,
    trainRows,
    trainer,
    fallback,
    deployments,
    windows: values.windows === undefined ? undefined : readWindowsFile(values.windows),
    segments: values.segments === undefined ? [] : readSegmentsFile(values.segments, stream.schema),
    // The worker's own finding rules (HOMEOSTAT_FINDING_RULES), so the replay judges as the agent does.
    findingRules: await findingRulesFromEnv(),
    approvals: only('approvals', ['grant', 'expire'] as const, values.approvals),
    // The gateway's key of the canary split, where the operator has it: the canary then serves the rows
    // the live one did. From the environment only: a secret on the command line is in the process list.
    routingSecret: process.env.HOMEOSTAT_ROUTING_SECRET || undefined,
    progressEvery: positiveInteger('progress-every', values['progress-every']),
    onProgress: (line) => console.error(line),
    source: path.basename(file),
  });
  if (values.out) fs.writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatSummary(report));
  if (values.out) console.error(`backtest: report written to ${values.out}`);
}

async function exportCommand(values: Values): Promise<void> {
  if (!values.model || !values.out)
    throw new BacktestInputError('export needs --model <name> and --out <file.jsonl>');
  const store = await createStore();
  try {
    const result = await exportStream(store, values.model, {
      out: values.out,
      schemaOut: values['schema-out'],
      artifactOut: values['artifact-out'],
      deploymentsOut: values['deployments-out'],
    });
    console.error(
      `backtest: exported ${result.rows} predictions (${result.labelled} labelled) of ${values.model} to ${values.out}${result.version === null ? '' : `; artifact of version ${result.version}`}`,
    );
    if (values['windows-out']) {
      const windows = await exportWindows(store, values.model, values['windows-out']);
      console.error(`backtest: exported ${windows} recorded window(s) to ${values['windows-out']}`);
    }
    if (result.deployments) {
      const d = result.deployments;
      console.error(
        `backtest: exported ${d.changes} deployment change(s) made by people and ${d.versions} version(s) to ${values['deployments-out']} (${d.agentChanges} change(s) by the agent left out)`,
      );
    }
  } finally {
    await store.$disconnect();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals[0] === 'export') {
    if (positionals.length > 1) throw new BacktestInputError(`unexpected argument "${positionals[1]}"`);
    for (const [given, meant] of [
      ['deployments', 'deployments-out'],
      ['windows', 'windows-out'],
    ] as const) {
      if (values[given] !== undefined)
        throw new BacktestInputError(`export writes with --${meant}; --${given} is for a replay`);
    }
    return exportCommand(values);
  }
  for (const [given, meant] of [
    ['deployments-out', 'deployments'],
    ['windows-out', 'windows'],
  ] as const) {
    if (values[given] !== undefined)
      throw new BacktestInputError(`--${given} is an option of export; a replay reads one with --${meant}`);
  }
  if (positionals.length !== 1) {
    throw new BacktestInputError(
      positionals.length === 0
        ? 'give the stream file to replay'
        : `give one stream file, not ${positionals.length}`,
    );
  }
  return replay(positionals[0]!, values);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof BacktestInputError) {
    console.error(`backtest: ${error.message}`);
    console.error('run with --help for the options');
    process.exitCode = 2;
    return;
  }
  console.error(`backtest: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
