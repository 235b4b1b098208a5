// Request input: JSON bodies within the size limit, and no NUL character in any text of a body or of the
// query string. PostgreSQL cannot store or compare U+0000 in text or jsonb (it answers "unsupported Unicode
// escape sequence" or "invalid byte sequence"), so such input would fail at the database with a 500 on
// PostgreSQL and be stored on SQLite: refused on both, up front, as a precise 400 that names where the
// character is.
import type { RequestHandler } from 'express';
import express from 'express';
import { HttpError } from './errors.ts';

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size as HOMEOSTAT_BODY_LIMIT takes it ("2mb", "512kb", "100000": bytes), in bytes. */
export function byteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!match) throw new Error(`HOMEOSTAT_BODY_LIMIT must be a size such as "2mb" or "500kb", not "${text}"`);
  return Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'b').toLowerCase()]!);
}

/** The largest body accepted, in bytes (the gateway's fast path reads up to it itself). */
export const BODY_LIMIT_BYTES = byteSize(process.env.HOMEOSTAT_BODY_LIMIT ?? '2mb');

/** JSON only writes U+0000 as this escape (a raw 0x00 inside a string is malformed JSON already). */
const NUL_ESCAPE = Buffer.from('\\u0000');
const RAW_BODY = Symbol('raw body');

type Raw = { [RAW_BODY]?: Buffer };

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
 * Refuses a parsed body whose text holds U+0000. Only a body whose raw text holds the escape is walked (an
 * escaped backslash followed by "u0000" makes the walk find nothing), so ordinary requests pay one byte
 * search.
 */
export function refuseNul(raw: Buffer, body: unknown): void {
  if (!raw.includes(NUL_ESCAPE)) return;
  const at = nulCharacterPath(body);
  if (at === null) return;
  throw new HttpError(
    400,
    'malformed_body',
    `text must not contain the NUL character (U+0000): found at ${at}`,
  );
}

/** The JSON body parser (body-parser's, whose refusals errors.ts words), then the NUL check. */
export function jsonBody(): RequestHandler[] {
  return [
    express.json({
      limit: BODY_LIMIT_BYTES,
      verify: (req, _res, raw) => {
        (req as Raw)[RAW_BODY] = raw;
      },
    }),
    (req, _res, next) => {
      const raw = (req as Raw)[RAW_BODY];
      if (raw) refuseNul(raw, req.body);
      next();
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
