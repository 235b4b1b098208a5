// When the database cannot answer (down, unreachable, out of connections, locked past the timeout), a
// request gets 503 database_unavailable with Retry-After instead of a generic 500: the caller can tell a
// passing outage from a bug and retry. HOMEOSTAT_DB_TIMEOUT_MS bounds how long a request waits for it.

/** HOMEOSTAT_DB_TIMEOUT_MS (default 10 000): PostgreSQL connect timeout, SQLite lock wait. */
export function databaseTimeoutMs(raw = process.env.HOMEOSTAT_DB_TIMEOUT_MS): number {
  if (raw === undefined || raw === '') return 10_000;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new Error(`HOMEOSTAT_DB_TIMEOUT_MS must be a positive number of milliseconds, not "${raw}"`);
  }
  return ms;
}

/**
 * Prisma's codes for a database that cannot be reached or did not answer in time: P1001 unreachable,
 * P1002 timed out, P1008 operation timed out, P1017 connection closed, P2024 no pooled connection in time.
 */
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/** What a driver adapter reports (err.meta.driverAdapterError.cause.kind) for the same conditions. */
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout', // also SQLite's SQLITE_BUSY: the lock was not released within the timeout
  'TooManyConnections',
  'DatabaseDoesNotExist',
]);

/** PostgreSQL's SQLSTATEs for a server shutting down or refusing connections (kind "postgres"). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres and socket errors that come before any query ran. */
const CONNECTION_FAILURE =
  /Connection terminated|timeout exceeded when trying to connect|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|the database system is (starting up|shutting down)/;

interface DriverError {
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: string; code?: unknown } } };
  cause?: unknown;
}

/** True when the error says the database was unavailable, not that the request or the code was wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (
    let e = err as DriverError | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as DriverError, depth++
  ) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    const cause = e.meta?.driverAdapterError?.cause;
    if (cause?.kind && UNAVAILABLE_KINDS.has(cause.kind)) return true;
    if (cause?.kind === 'postgres' && UNAVAILABLE_SQLSTATES.has(String(cause.code))) return true;
    if (typeof e.code === 'string' && UNAVAILABLE_SQLSTATES.has(e.code)) return true;
    if (typeof e.message === 'string' && CONNECTION_FAILURE.test(e.message)) return true;
  }
  return false;
}
