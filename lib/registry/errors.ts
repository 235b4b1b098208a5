// Why the registry refused a request. It carries the HTTP status the API answers with, so the API, the
// agent's activities and scripts report a refusal the same way; nothing has been written when it is thrown.
import type { z } from 'zod';

export interface RegistryIssue {
  /** Where the problem is, e.g. `body.canary.version`. */
  path: string;
  message: string;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly status: 400 | 404 | 409 | 422 | 502,
    readonly code: string,
    message: string,
    readonly issues?: RegistryIssue[],
  ) {
    super(message);
  }
}

export function modelNotFound(name: string): RegistryError {
  return new RegistryError(404, 'model_not_found', `model "${name}" is not registered`);
}

/** Parses a request body with a zod schema, or throws a 400 that lists every problem with its path. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new RegistryError(
    400,
    'invalid_request',
    'request body is invalid',
    parsed.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message })),
  );
}
