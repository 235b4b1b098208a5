// API keys. A key is `hs_` + 32 random bytes (base64url): high-entropy, so a plain SHA-256 is a safe way
// to store it (no salt or slow hash needed, unlike passwords), and lookups stay one indexed read.
// Each key has a role (what it may do) and a scope (which models it may do it to).
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../db/client.ts';
import { modelNameSchema, type Role } from '../domain.ts';

/** The models a key may use: their names, or every model ('*', which keys made before scopes have). */
export type ModelScope = '*' | string[];
export const EVERY_MODEL = '*';

export const modelScopeSchema = z.union([
  z.literal(EVERY_MODEL),
  z.array(modelNameSchema).min(1, 'name at least one model, or "*" for every model'),
]);

export interface KeyIdentity {
  name: string;
  role: Role;
  models: ModelScope;
  /** Set when a person signed in acts through a session (lib/auth/sessions.ts); the name is theirs. */
  session?: { id: string; csrfToken: string };
}

/** Stored as a JSON array: the names, or ["*"]. */
const storedScope = (models: ModelScope) => (models === EVERY_MODEL ? [EVERY_MODEL] : [...new Set(models)]);

export function scopeOf(stored: unknown): ModelScope {
  const names = Array.isArray(stored) ? stored.filter((n): n is string => typeof n === 'string') : [];
  return names.includes(EVERY_MODEL) ? EVERY_MODEL : names;
}

export function mayUseModel(identity: Pick<KeyIdentity, 'models'>, model: string): boolean {
  return identity.models === EVERY_MODEL || identity.models.includes(model);
}

/** A Prisma filter on Model rows: the models the key may see ({} for every model). */
export function visibleModels(identity: Pick<KeyIdentity, 'models'>): { name?: { in: string[] } } {
  return identity.models === EVERY_MODEL ? {} : { name: { in: identity.models } };
}

const PREFIX_LENGTH = 10;

/** How long a verified (or unknown) key is remembered: how late a revocation made by another process bites. */
export const KEY_CACHE_MS = 5_000;

/**
 * Per process, by key hash; changes made through this module evict their entries at once. Unknown keys
 * are remembered apart, so that a flood of made-up keys fills and clears only their own map, never
 * evicting the real keys the gateway's hot path relies on.
 */
const cache = new Map<string, { identity: KeyIdentity; until: number }>();
const unknownCache = new Map<string, number>();
const MAX_CACHED = 10_000;

/** One call, no Hash object: every request with a key pays it. */
export const hashKey = (secret: string) => hash('sha256', secret, 'hex');

/** Compares secrets in constant time (a hash of each first, so lengths do not tell either). */
export function sameSecret(sent: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(sent), digest(expected));
}

export class KeyExistsError extends Error {}

/** Creates a key and returns its secret: the only time the secret exists outside the caller. */
const newSecret = () => `hs_${randomBytes(32).toString('base64url')}`;

export async function createApiKey(
  store: Store,
  name: string,
  role: Role,
  models: ModelScope,
): Promise<{ secret: string; prefix: string }> {
  const secret = newSecret();
  const prefix = secret.slice(0, PREFIX_LENGTH);
  try {
    await store.apiKey.create({
      data: { name, role, models: storedScope(models), hash: hashKey(secret), prefix },
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'P2002')
      throw new KeyExistsError(`an API key named "${name}" exists`);
    throw err;
  }
  return { secret, prefix };
}

/** Gives the named key a new secret (creating it if needed) and clears any revocation: for tools that
 * own their key, such as the demo, and must run again without knowing the old secret. */
export async function rotateApiKey(
  store: Store,
  name: string,
  role: Role,
  models: ModelScope = EVERY_MODEL,
): Promise<string> {
  const secret = newSecret();
  const data = {
    role,
    models: storedScope(models),
    hash: hashKey(secret),
    prefix: secret.slice(0, PREFIX_LENGTH),
    revokedAt: null,
  };
  const previous = await store.apiKey.findUnique({ where: { name }, select: { hash: true } });
  await store.apiKey.upsert({ where: { name }, create: { name, ...data }, update: data });
  if (previous) cache.delete(previous.hash);
  return secret;
}

export async function revokeApiKey(store: Store, name: string): Promise<boolean> {
  const key = await store.apiKey.findUnique({ where: { name }, select: { hash: true, revokedAt: true } });
  if (!key || key.revokedAt) return false;
  await store.apiKey.update({ where: { name }, data: { revokedAt: new Date() } });
  cache.delete(key.hash);
  return true;
}

/**
 * Verifies keys with a short-lived cache, so the gateway's hot path does not read the database on
 * every request.
 */
export function createKeyVerifier(store: Store, cacheMs = KEY_CACHE_MS) {
  return async function verify(secret: string): Promise<KeyIdentity | null> {
    const hash = hashKey(secret);
    const now = Date.now();
    const hit = cache.get(hash);
    if (hit && hit.until > now) return hit.identity;
    if ((unknownCache.get(hash) ?? 0) > now) return null;
    const row = await store.apiKey.findUnique({ where: { hash } });
    const identity =
      row && !row.revokedAt ? { name: row.name, role: row.role as Role, models: scopeOf(row.models) } : null;
    // Bounded: guessing keys must not grow memory.
    if (identity) {
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(hash, { identity, until: now + cacheMs });
    } else {
      cache.delete(hash);
      if (unknownCache.size >= MAX_CACHED) unknownCache.clear();
      unknownCache.set(hash, now + cacheMs);
    }
    return identity;
  };
}
