// Size limits of the gateway and ingestion endpoints. The request body limit itself is the API's
// (BODY_LIMIT in api/input.ts, HOMEOSTAT_BODY_LIMIT, 2 MB by default, answered with 413).

/** Rows per gateway batch, predictions or labels per ingestion batch. */
export const MAX_BATCH_ROWS = 1000;

/** Longest prediction id a client may send (a generated one is a UUID). */
export const MAX_ID_LENGTH = 128;

/** Longest error message stored with a prediction; longer ones are cut. */
export const MAX_ERROR_LENGTH = 2000;

/**
 * The answer when a body's list is longer than MAX_BATCH_ROWS, or null. Checked before the schema, so
 * that an oversize batch gets one clear message rather than a validation error per row.
 */
export function batchTooLarge(list: unknown, what: string): string | null {
  if (!Array.isArray(list) || list.length <= MAX_BATCH_ROWS) return null;
  return `a batch holds at most ${MAX_BATCH_ROWS} ${what}; this one has ${list.length}: split it`;
}

/**
 * Ids per `IN (…)` list of a query that has other conditions beside it: under the 999 bound parameters
 * Prisma allows on SQLite. (Prisma splits a long list by itself only when it is the query's sole condition.)
 */
export const IDS_PER_QUERY = 900;

/** Runs a query over the ids (or items) in slices of `perQuery`, one after the other, and joins the rows. */
export async function queryInSlices<I, T>(
  ids: I[],
  query: (slice: I[]) => Promise<T[]>,
  perQuery = IDS_PER_QUERY,
): Promise<T[]> {
  const rows: T[] = [];
  for (let start = 0; start < ids.length; start += perQuery) {
    rows.push(...(await query(ids.slice(start, start + perQuery))));
  }
  return rows;
}
