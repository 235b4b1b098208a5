// Paging of list routes: `?limit=` (how many) and `?cursor=` (where to go on), answered with
// `nextCursor` — the cursor of the next page, or null on the last one. A cursor is the id of the last row
// of the page before (opaque to callers); pages follow each route's order with the id as tie-breaker,
// so rows added meanwhile never make a page repeat or skip a row that was there when paging began.
import { z } from 'zod';

export const cursorParam = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'a nextCursor from the page before')
  .optional();

export const limitParam = (fallback: number, max: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

/** The query parameters of a paged list: limit (default `fallback`, at most `max`) and cursor. */
export const pageParams = (fallback: number, max: number) => ({
  limit: limitParam(fallback, max),
  cursor: cursorParam,
});

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/** What a Prisma findMany needs to read one page: one row more than asked, to know whether more follow. */
export function pageArgs({ limit, cursor }: PageRequest) {
  return { take: limit + 1, ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}) };
}

/** The page's rows and the cursor of the next page (null when none follows). */
export function pageOf<T extends { id: string }>(rows: T[], { limit }: PageRequest) {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
}
