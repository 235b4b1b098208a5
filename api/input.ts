// Request input: JSON bodies within the size limit, and no NUL character in any text of a body or of the
// query string. PostgreSQL cannot store or compare U+0000 in text or jsonb (it answers "unsupported Unicode
// escape sequence" or "invalid byte sequence"), so such input would fail at the database with a 500 on
// PostgreSQL and be stored on SQLite: refused on both, up front, as a precise 400 that names where the
// character is.
import type { RequestHandler } from 'express';
import express from 'express';
import { HttpError } from './errors.ts';

export const BODY_LIMIT = process.env.HOMEOSTAT_BODY_LIMIT ?? '2mb';

/** JSON only writes U+0000 as this escape (a raw 0x00 inside a string is malformed JSON already). */
const NUL_ESCAPE = Buffer.from('\\u0000');
const MAY_HOLD_NUL = Symbol('may hold NUL');

type Flagged = { [MAY_HOLD_NUL]?: boolean };

/** The path (`$.featureSchema[2].name`, `$.rows[0]["a b"]`) of the first text holding U+0000, if any. */
export function nulCharacterPath(value: unknown, at = '$'): string | null {
  if (typeof value === 'string') return value.includes('\0') ? at : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = nulCharacterPath(value[i], `${at}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const here = /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
      if (key.includes('\0')) return here;
      const found = nulCharacterPath(item, here);
      if (found) return found;
    }
  }
  return null;
}

/**
 * The JSON body parser. Only a body whose raw text holds the escape is walked (an escaped backslash
 * followed by "u0000" makes the walk find nothing), so ordinary requests pay one byte search.
 */
export function jsonBody(): RequestHandler[] {
  return [
    express.json({
      limit: BODY_LIMIT,
      verify: (req, _res, raw) => {
        (req as Flagged)[MAY_HOLD_NUL] = raw.includes(NUL_ESCAPE);
      },
    }),
    (req, _res, next) => {
      if (!(req as Flagged)[MAY_HOLD_NUL]) return next();
      const at = nulCharacterPath(req.body);
      if (at === null) return next();
      throw new HttpError(
        400,
        'malformed_body',
        `text must not contain the NUL character (U+0000): found at ${at}`,
      );
    },
  ];
}

/** Refuses a query string whose parameters hold U+0000 (`?model=a%00b`), naming the parameter. */
export function queryWithoutNul(): RequestHandler {
  return (req, _res, next) => {
    if (!req.originalUrl.includes('%00')) return next();
    const at = nulCharacterPath(req.query, 'query');
    if (at === null) return next();
    throw new HttpError(
      400,
      'invalid_request',
      `query parameters must not contain the NUL character (U+0000): found at ${at}`,
    );
  };
}
