// Adapter for the user's own model server, and the JSON-over-HTTP call it shares with the training
// webhook (external-trainer.ts). Both call out under the egress policy (lib/net/egress.ts), and their
// errors never carry the URL or the answer's text (see ModelServerError).
//
// Model server contract. Homeostat sends
//   POST <url>   content-type: application/json   (plus the artifact's headers)
//   { "rows": [ { "<feature>": <number | string | boolean | null>, ... }, ... ] }
// and expects a 2xx answer
//   { "outputs": [ { "prediction": "<label>" | <number>,
//                    "confidence"?: <0..1 | null>,
//                    "probabilities"?: { "<label>": <0..1>, ... } }, ... ] }
// with exactly one output per row, in order. Classifier predictions are class labels (a number is taken
// as its string form); regression predictions must be numbers. Without a confidence, the largest
// probability is used, or null. Rows are sent as received, invalid values included: the server owns its
// own imputation.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Task } from '../domain.ts';
import { logger } from '../log.ts';
import {
  EGRESS_ALLOW_ENV,
  EgressDeniedError,
  type EgressResponse,
  egressPost,
  urlForLog,
} from '../net/egress.ts';
import {
  describeIssues,
  type HttpModelArtifact,
  isModelHeaderEnvVariable,
  MODEL_HEADER_ENV_RULE,
  type ModelAdapter,
  type ModelOutput,
} from './types.ts';

export const DEFAULT_MODEL_TIMEOUT_MS = 2000;
const EXCERPT_CHARS = 300;

/**
 * A call to a user-run HTTP endpoint failed. The message says what went wrong in words safe to show any
 * caller — never the URL (internal addresses, tokens in queries) nor the answer's text; `forLog()` has
 * those details for the log.
 */
export class ModelServerError extends Error {
  override readonly name = 'ModelServerError';
  /** The endpoint as logs may show it (urlForLog: no credentials, no query). */
  readonly url: string;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  readonly bodyExcerpt: string | null;
  readonly timedOut: boolean;

  constructor(
    message: string,
    details: { url: string; status?: number; bodyExcerpt?: string; timedOut?: boolean; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.url = urlForLog(details.url);
    this.status = details.status ?? null;
    this.bodyExcerpt = details.bodyExcerpt ?? null;
    this.timedOut = details.timedOut ?? false;
  }

  /** The details for a log line: the endpoint, the status, the start of the answer, the cause. */
  forLog() {
    const cause = this.cause instanceof Error ? this.cause.message : undefined;
    return { url: this.url, status: this.status, bodyExcerpt: this.bodyExcerpt, cause };
  }
}

/**
 * Logs a failed model call with its details (ModelServerError.forLog: no secrets) under a fresh
 * correlation id and answers the id, which the caller's error names so the two can be matched.
 */
export function logModelFailure(error: unknown, context: Record<string, unknown>): string {
  const correlationId = randomUUID();
  const message = error instanceof Error ? error.message : String(error);
  const details = error instanceof ModelServerError ? error.forLog() : {};
  logger.warn({ correlationId, ...context, error: message, ...details }, 'model call failed');
  return correlationId;
}

/** The start of a response or output, on one line, for error messages. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/**
 * Static headers plus headers whose values come from environment variables (name → variable); a
 * variable that is not set is a configuration error, reported before any request is made. Only
 * HOMEOSTAT_MODEL_* variables are read, whatever the artifact says (the schema checks it too, but a
 * row stored before the rule existed is not re-validated by it).
 */
export function resolveHeaders(
  headers: Record<string, string> = {},
  headerEnv: Record<string, string> = {},
): Record<string, string> {
  const resolved = { ...headers };
  for (const [name, variable] of Object.entries(headerEnv)) {
    if (!isModelHeaderEnvVariable(variable)) {
      throw new Error(`header ${name}: ${variable} is not readable; headerEnv ${MODEL_HEADER_ENV_RULE}`);
    }
    const value = process.env[variable];
    if (value === undefined) {
      throw new Error(`header ${name} needs environment variable ${variable}, which is not set`);
    }
    resolved[name] = value;
  }
  return resolved;
}

export interface PostJsonOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** Names the endpoint in error messages, e.g. 'model server'. */
  label: string;
}

/** Why a call got no answer, in words that name no address: the error's code, not its message. */
function unreachable(error: unknown): string {
  if (error instanceof EgressDeniedError) {
    return `is not reachable under the egress policy (a ${error.use} address; see ${EGRESS_ALLOW_ENV})`;
  }
  const code = (error as NodeJS.ErrnoException).code;
  return `could not be reached${code ? ` (${code})` : ''}`;
}

/**
 * POSTs `body` as JSON under the egress policy (lib/net/egress.ts) and returns the answer validated by
 * `schema`; any failure is a ModelServerError.
 */
export async function postJson<T>(
  url: string,
  body: unknown,
  schema: z.ZodType<T>,
  { headers, timeoutMs, label }: PostJsonOptions,
): Promise<T> {
  let response: EgressResponse;
  try {
    response = await egressPost(url, {
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      timeoutMs,
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new ModelServerError(`${label} did not answer within ${timeoutMs} ms`, {
        url,
        timedOut: true,
        cause: error,
      });
    }
    throw new ModelServerError(`${label} ${unreachable(error)}`, { url, cause: error });
  }
  const { status, text } = response;
  const bodyExcerpt = excerpt(text);
  const answered = (what: string) =>
    new ModelServerError(`${label} answered ${what}`, { url, status, bodyExcerpt });
  if (status >= 300 && status <= 399) throw answered(`HTTP ${status}, a redirect (not followed)`);
  if (status < 200 || status > 299) throw answered(`HTTP ${status}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw answered('with invalid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw answered(`with an invalid response (${describeIssues(parsed.error)})`);
  return parsed.data;
}

function responseSchema(task: Task, rows: number) {
  const output = z.object({
    prediction: task === 'regression' ? z.number() : z.union([z.string(), z.number().transform(String)]),
    confidence: z.number().min(0).max(1).nullish(),
    probabilities: z.record(z.string(), z.number().min(0).max(1)).optional(),
  });
  return z.object({
    outputs: z.array(output).length(rows, { error: `expected ${rows} outputs, one per row` }),
  });
}

export function loadHttpModel(artifact: HttpModelArtifact): ModelAdapter {
  const options: PostJsonOptions = {
    headers: resolveHeaders(artifact.headers, artifact.headerEnv),
    timeoutMs: artifact.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS,
    label: 'model server',
  };
  return {
    async predict(rows) {
      const { outputs } = await postJson(
        artifact.url,
        { rows },
        responseSchema(artifact.task, rows.length),
        options,
      );
      return outputs.map(({ prediction, confidence, probabilities }): ModelOutput => {
        const p = Object.values(probabilities ?? {});
        return {
          prediction,
          confidence: confidence ?? (p.length > 0 ? Math.max(...p) : null),
          ...(probabilities && { probabilities }),
        };
      });
    },
  };
}
