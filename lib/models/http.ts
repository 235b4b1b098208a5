// Adapter for the user's own model server, and the JSON-over-HTTP call it shares with the training
// webhook (external-trainer.ts).
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
import { z } from 'zod';
import type { Task } from '../domain.ts';
import { describeIssues, type HttpModelArtifact, type ModelAdapter, type ModelOutput } from './types.ts';

export const DEFAULT_MODEL_TIMEOUT_MS = 2000;
const EXCERPT_CHARS = 300;

/** A call to a user-run HTTP endpoint failed; the message names the endpoint and what went wrong. */
export class ModelServerError extends Error {
  override readonly name = 'ModelServerError';
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
    this.url = details.url;
    this.status = details.status ?? null;
    this.bodyExcerpt = details.bodyExcerpt ?? null;
    this.timedOut = details.timedOut ?? false;
  }
}

/** The start of a response or output, on one line, for error messages. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/**
 * Static headers plus headers whose values come from environment variables (name → variable); a
 * variable that is not set is a configuration error, reported before any request is made.
 */
export function resolveHeaders(
  headers: Record<string, string> = {},
  headerEnv: Record<string, string> = {},
): Record<string, string> {
  const resolved = { ...headers };
  for (const [name, variable] of Object.entries(headerEnv)) {
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

/** POSTs `body` as JSON and returns the answer validated by `schema`; any failure is a ModelServerError. */
export async function postJson<T>(
  url: string,
  body: unknown,
  schema: z.ZodType<T>,
  { headers, timeoutMs, label }: PostJsonOptions,
): Promise<T> {
  const where = `${label} ${url}`;
  let response: Response | undefined;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      // Covers the whole exchange, body included: a server that stalls mid-answer also times out.
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    const status = response?.status;
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new ModelServerError(`${where} did not answer within ${timeoutMs} ms`, {
        url,
        status,
        timedOut: true,
        cause: error,
      });
    }
    const reason =
      error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : error;
    throw new ModelServerError(`${where} failed: ${reason}`, { url, status, cause: error });
  }
  const { status } = response;
  const bodyExcerpt = excerpt(text);
  const answered = (what: string) =>
    new ModelServerError(`${where} answered ${what}`, { url, status, bodyExcerpt });
  if (status < 200 || status > 299) throw answered(`HTTP ${status}: ${bodyExcerpt}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw answered(`with invalid JSON: ${bodyExcerpt}`);
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
