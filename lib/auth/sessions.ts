// Sessions of people signed in to the dashboard. The cookie holds a random secret (32 bytes); the store
// holds its SHA-256 (as for API keys: the secret is high-entropy, so a fast hash is safe), the person, a
// CSRF token, an absolute expiry and the time of last use. A session ends at its expiry
// (HOMEOSTAT_SESSION_HOURS, default 12) or after HOMEOSTAT_SESSION_IDLE_MINUTES unused (default 30).
import { randomBytes } from 'node:crypto';
import type { Store } from '../db/client.ts';
import { EVERY_MODEL, hashKey, type KeyIdentity, sameSecret } from './keys.ts';
import type { Person, PersonRole } from './users.ts';

export const SESSION_COOKIE = 'homeostat_session';
export const CSRF_HEADER = 'x-csrf-token';

/** The last use is written at most this often, so that a polling dashboard does not write on every read. */
const TOUCH_EVERY_MS = 60_000;

export interface SessionTimes {
  lifetimeMs: number;
  idleMs: number;
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

export function sessionTimesFromEnv(env: NodeJS.ProcessEnv = process.env): SessionTimes {
  return {
    lifetimeMs: positive('HOMEOSTAT_SESSION_HOURS', env.HOMEOSTAT_SESSION_HOURS, 12) * 3_600_000,
    idleMs: positive('HOMEOSTAT_SESSION_IDLE_MINUTES', env.HOMEOSTAT_SESSION_IDLE_MINUTES, 30) * 60_000,
  };
}

export interface NewSession {
  /** The cookie's value: shown to the browser once, never stored. */
  secret: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function startSession(store: Store, person: Person, times: SessionTimes): Promise<NewSession> {
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + times.lifetimeMs);
  await store.session.create({ data: { hash: hashKey(secret), userId: person.id, csrfToken, expiresAt } });
  return { secret, csrfToken, expiresAt };
}

/** A person acting through a session: a name and role as a key has, every model, and the session's token. */
export interface SessionIdentity extends KeyIdentity {
  role: PersonRole;
  session: NonNullable<KeyIdentity['session']>;
}

/** The session's person, or null when the secret is unknown, expired, idle too long or its person disabled. */
export async function resumeSession(
  store: Store,
  secret: string,
  times: SessionTimes,
): Promise<SessionIdentity | null> {
  const row = await store.session.findUnique({ where: { hash: hashKey(secret) }, include: { user: true } });
  if (!row) return null;
  const now = Date.now();
  if (
    row.expiresAt.getTime() <= now ||
    row.lastSeenAt.getTime() + times.idleMs <= now ||
    row.user.disabledAt
  ) {
    await store.session.deleteMany({ where: { id: row.id } });
    return null;
  }
  if (now - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await store.session.update({ where: { id: row.id }, data: { lastSeenAt: new Date(now) } });
  }
  return {
    name: row.user.name,
    role: row.user.role as PersonRole,
    models: EVERY_MODEL,
    session: { id: row.id, csrfToken: row.csrfToken },
  };
}

export async function endSession(store: Store, id: string): Promise<void> {
  await store.session.deleteMany({ where: { id } });
}

/** Whether the request's CSRF header is the session's token (constant time). */
export function csrfMatches(sent: string | undefined, expected: string): boolean {
  return sent !== undefined && sameSecret(sent, expected);
}
