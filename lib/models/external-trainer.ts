// Adapter for a training pipeline that runs outside Homeostat: a command it starts, or a webhook it calls.
// Either way the result is a model artifact (types.ts), validated before anything uses it — typically an
// 'http' artifact naming the server that now serves the new model, or one of the built-in kinds.
//
// Command contract. The command runs without a shell (arguments are passed as given, so nothing is
// re-parsed or injected) with these files in a fresh temporary directory:
//   train.jsonl    one line per row: {"features": {"<feature>": <value>, ...}, "label": <label>}
//   schema.json    the feature schema
// Their paths are in the environment variables HOMEOSTAT_TRAINING_DATA and HOMEOSTAT_FEATURE_SCHEMA, the
// task in HOMEOSTAT_TASK, and `{data}`, `{schema}` and `{artifact}` in the arguments are replaced by the
// paths. The command writes the artifact JSON to HOMEOSTAT_ARTIFACT_PATH (`{artifact}`) or, if it leaves
// that file absent, to stdout. A non-zero exit code means failure; the end of stderr goes into the error.
// The directory is removed afterwards.
//
// Webhook contract. POST <url> {"task", "schema", "rows": [...], "labels": [...]} with the configured
// headers; the 2xx answer's body is the artifact.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { excerpt, logModelFailure, ModelServerError, postJson, resolveHeaders } from './http.ts';
import {
  describeIssues,
  type ExternalTrainerConfig,
  type ExternalTrainerConfigInput,
  externalTrainerConfigSchema,
  modelArtifactSchema,
  type Trainer,
  type TrainingRequest,
} from './types.ts';

/** Enough of stderr to show the error a failing pipeline printed last. */
const STDERR_TAIL_CHARS = 2000;
/** Even a large forest artifact is a few megabytes; more than this on stdout is not an artifact. */
const MAX_STDOUT_BYTES = 64 * 1024 * 1024;

export class ExternalTrainerError extends Error {
  override readonly name = 'ExternalTrainerError';
}

type CommandConfig = Extract<ExternalTrainerConfig, { type: 'command' }>;
type WebhookConfig = Extract<ExternalTrainerConfig, { type: 'webhook' }>;

/** Names the pipeline in errors; a webhook's URL stays out of them (it goes to the log only). */
function describe(config: ExternalTrainerConfig): string {
  return config.type === 'command' ? `training command ${config.command}` : 'training webhook';
}

interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderrTail: string;
  timedOut: boolean;
}

function run(config: CommandConfig, args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout kills the pipeline's children too (a shell script that
    // starts python, say), and none of them keeps stdout open after the kill.
    const child = spawn(config.command, args, {
      cwd: config.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrTail = '';
    let timedOut = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, config.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) kill();
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new ExternalTrainerError(`${describe(config)} could not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        reject(
          new ExternalTrainerError(`${describe(config)} wrote more than ${MAX_STDOUT_BYTES} bytes to stdout`),
        );
      } else {
        resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderrTail, timedOut });
      }
    });
  });
}

async function trainWithCommand(
  config: CommandConfig,
  { task, schema, data }: TrainingRequest,
): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'homeostat-train-'));
  try {
    const paths = {
      data: join(dir, 'train.jsonl'),
      schema: join(dir, 'schema.json'),
      artifact: join(dir, 'artifact.json'),
    };
    const lines = data.rows.map((features, i) => `${JSON.stringify({ features, label: data.labels[i] })}\n`);
    await writeFile(paths.data, lines.join(''));
    await writeFile(paths.schema, JSON.stringify(schema));
    const args = config.args.map((arg) =>
      arg.replace(/\{(data|schema|artifact)\}/g, (_, name: keyof typeof paths) => paths[name]),
    );
    const result = await run(config, args, {
      ...process.env,
      ...config.env,
      HOMEOSTAT_TASK: task,
      HOMEOSTAT_TRAINING_DATA: paths.data,
      HOMEOSTAT_FEATURE_SCHEMA: paths.schema,
      HOMEOSTAT_ARTIFACT_PATH: paths.artifact,
    });
    const name = describe(config);
    if (result.timedOut) {
      throw new ExternalTrainerError(`${name} did not finish within ${config.timeoutMs} ms and was killed`);
    }
    if (result.code !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      throw new ExternalTrainerError(`${name} ${how}: ${result.stderrTail.trim() || '(no stderr)'}`);
    }
    const output = await readFile(paths.artifact, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return result.stdout;
      throw error;
    });
    try {
      return JSON.parse(output);
    } catch {
      throw new ExternalTrainerError(
        `${name} did not produce artifact JSON; it wrote: ${excerpt(output) || '(nothing)'}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function trainWithWebhook(
  config: WebhookConfig,
  { task, schema, data }: TrainingRequest,
): Promise<unknown> {
  try {
    return await postJson(
      config.url,
      { task, schema, rows: data.rows, labels: data.labels },
      // Validated in externalTrainer.train like a command's output, so both report problems alike.
      z.unknown(),
      {
        headers: resolveHeaders(config.headers, config.headerEnv),
        timeoutMs: config.timeoutMs,
        label: 'training webhook',
      },
    );
  } catch (error) {
    if (error instanceof ModelServerError) {
      const correlationId = logModelFailure(error, { trainer: 'webhook' });
      throw new ExternalTrainerError(`${error.message} (correlation id ${correlationId})`, { cause: error });
    }
    throw error;
  }
}

export const externalTrainer: Trainer<ExternalTrainerConfigInput> = {
  async train(request, rawConfig) {
    const config = externalTrainerConfigSchema.safeParse(rawConfig);
    if (!config.success) {
      throw new ExternalTrainerError(`invalid external trainer config: ${describeIssues(config.error)}`);
    }
    const output =
      config.data.type === 'command'
        ? await trainWithCommand(config.data, request)
        : await trainWithWebhook(config.data, request);
    const artifact = modelArtifactSchema.safeParse(output);
    if (!artifact.success) {
      throw new ExternalTrainerError(
        `${describe(config.data)} produced an invalid artifact: ${describeIssues(artifact.error)}`,
      );
    }
    if (artifact.data.task !== request.task) {
      throw new ExternalTrainerError(
        `${describe(config.data)} produced a model for a ${artifact.data.task} task, not ${request.task}`,
      );
    }
    return artifact.data;
  },
};
