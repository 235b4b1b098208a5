// The fleet page's state, all of it in the URL (so a reload or a shared link shows the same page): the
// filters, the page size and the cursor, passed through to GET /v1/fleet, which validates them.
import type { FleetResponse } from './types';

export const FLEET_PARAMS = ['search', 'health', 'incidentKind', 'limit', 'cursor'] as const;
export type FleetQuery = Partial<Record<(typeof FLEET_PARAMS)[number], string>>;

/** Models per page unless the URL says otherwise; the choices the page offers. */
export const FLEET_PAGE_SIZE = '50';
export const FLEET_PAGE_SIZES = ['25', '50', '100', '200'];

/** The page's query from the URL's: the first value of each parameter; an empty one (a blank form field) is none. */
export function fleetQueryOf(params: Record<string, string | string[] | undefined>): FleetQuery {
  const query: FleetQuery = {};
  for (const key of FLEET_PARAMS) {
    const value = [params[key]].flat()[0]?.trim();
    if (value) query[key] = value;
  }
  return query;
}

const searchOf = (query: FleetQuery) =>
  new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => Boolean(e[1])));

/** The dashboard's fleet page for the query (a path, for links). */
export function fleetHref(query: FleetQuery): string {
  const search = searchOf(query).toString();
  return search ? `/?${search}` : '/';
}

/** The API's fleet path for the query, at the dashboard's page size unless the query names one. */
export const fleetApiPath = (query: FleetQuery) =>
  `/v1/fleet?${searchOf({ limit: FLEET_PAGE_SIZE, ...query })}`;

/** The same filters on another page: `cursor` one of the answer's cursors. */
export const pageHref = (query: FleetQuery, cursor: string | null) =>
  cursor === null ? null : fleetHref({ ...query, cursor });

/** The models the page shows, as "51–100". */
export function pageRange(fleet: FleetResponse): string {
  if (fleet.models.length === 0) return '0';
  return `${fleet.offset + 1}–${fleet.offset + fleet.models.length}`;
}
