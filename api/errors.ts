// One error shape for every API failure: { error: { status, code, message, issues? } }.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import { isDatabaseUnavailable } from '../lib/db/availability.ts';
import { WriteQueueFull } from '../lib/ingest/prediction-writer.ts';
import { logger } from '../lib/log.ts';

export interface ErrorIssue {
  path: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: ErrorIssue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function validationError(error: z.ZodError, where: 'body' | 'query' | 'params' = 'body'): HttpError {
  const issues = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return new HttpError(400, 'invalid_request', `request ${where} is invalid`, issues);
}

/** Parses with a zod schema or throws a 400 that lists every problem with its path. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params' = 'body',
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** Seconds a caller should wait after a database outage before retrying. */
export const DATABASE_RETRY_AFTER_S = 5;

/** Conditions of the server, not of the request: a 503 the caller may retry after Retry-After. */
function unavailable(err: unknown): HttpError | null {
  if (err instanceof WriteQueueFull) {
    return new HttpError(503, 'overloaded', err.message, undefined, { 'Retry-After': '1' });
  }
  if (isDatabaseUnavailable(err)) {
    return new HttpError(
      503,
      'database_unavailable',
      'the database is unavailable or did not answer in time: retry after Retry-After',
      undefined,
      { 'Retry-After': String(DATABASE_RETRY_AFTER_S) },
    );
  }
  return null;
}

export const errorHandler: ErrorRequestHandler = (thrown, req, res, _next) => {
  const err = unavailable(thrown) ?? thrown;
  if (err !== thrown) logger.warn({ err: thrown, method: req.method, path: req.path }, err.message);
  if (err instanceof HttpError) {
    res.set(err.headers);
    res.status(err.status).json({
      error: {
        status: err.status,
        code: err.code,
        message: err.message,
        ...(err.issues ? { issues: err.issues } : {}),
      },
    });
    return;
  }
  // body-parser's own errors (malformed JSON, too large) carry a status and a type.
  const status = typeof err?.status === 'number' ? err.status : 500;
  if (status < 500) {
    const tooLarge = err.type === 'entity.too.large';
    const message = tooLarge
      ? `request body of ${err.length} bytes is over the limit of ${err.limit} bytes (HOMEOSTAT_BODY_LIMIT): split it`
      : err.message;
    res
      .status(status)
      .json({ error: { status, code: tooLarge ? 'payload_too_large' : 'malformed_body', message } });
    return;
  }
  logger.error({ err, method: req.method, path: req.path }, 'request failed');
  res.status(500).json({ error: { status: 500, code: 'internal', message: 'internal error' } });
};
