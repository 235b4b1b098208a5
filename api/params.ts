// Path parameters: one schema per parameter name, parsed by the routes and stated by the OpenAPI document
// (api/openapi.ts), so that what the document promises is what a route accepts.
import { z } from 'zod';
import { modelNameSchema } from '../lib/domain.ts';

/**
 * A version or revision number in a path: digits only (no "1e0", " 1", "0x1" that Number() would read),
 * and at most 9 of them, so that it fits the database's 32-bit integer columns.
 */
const positiveNumberParam = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/, 'a whole number from 1 to 999999999, digits only')
  .transform(Number);

export const keyNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lower-case letters, digits, ".", "-" and "_"');

export const PATH_PARAMS = {
  /** Routes look a model up by name: a name that breaks the schema is never registered (404). */
  model: modelNameSchema,
  version: positiveNumberParam,
  revision: positiveNumberParam,
  /** An incident's id. */
  id: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "-" and "_"'),
  /** An API key's name. */
  name: keyNameSchema,
  /** A webhook remedy's delivery id: its child workflow's id, agent:<model>:<incident>:<attempt>:webhook. */
  delivery: z
    .string()
    .max(400)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, ".", ":", "-" and "_"'),
} satisfies Record<string, z.ZodType>;

export type PathParamName = keyof typeof PATH_PARAMS;

/** A path parameter as Express hands it to the route (percent-decoded); undecodable: as sent. */
export function decodedParam(param: string): string {
  if (!param.includes('%')) return param;
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}
