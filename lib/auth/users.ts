// People who sign in to the dashboard. A person has a name, a role (the API's roles, except ingest, which
// is for machines) and a password, stored as a salted scrypt hash: unlike an API key a password is
// guessable, so its hash must be slow. Sessions are in lib/auth/sessions.ts.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../db/client.ts';
import type { Role } from '../domain.ts';

/** The roles a person may have. */
export const PERSON_ROLES = ['viewer', 'operator', 'admin'] as const satisfies readonly Role[];
export type PersonRole = (typeof PERSON_ROLES)[number];

export const userNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'a name of letters, digits, ".", "_" or "-" (up to 64)');

/** Long enough that guessing it online, at the sign-in rate limit, is hopeless. */
export const MIN_PASSWORD_LENGTH = 12;

// scrypt at N = 2^15, r = 8 (OWASP's recommendation): about 32 MiB and tens of ms a check.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url): the parameters travel with the hash, so they can grow later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, SCRYPT);
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, N, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(N),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Checked against when the name is unknown, so that the answer takes as long as for a known name. */
let decoy: Promise<string> | undefined;

export interface Person {
  id: string;
  name: string;
  role: PersonRole;
}

/** The person with this name and password, or null (unknown, disabled or wrong password alike). */
export async function checkPassword(store: Store, name: string, password: string): Promise<Person | null> {
  const user = await store.user.findUnique({ where: { name } });
  if (!user || user.disabledAt) {
    decoy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password, await decoy);
    return null;
  }
  if (!(await verifyPassword(password, user.passwordHash))) return null;
  return { id: user.id, name: user.name, role: user.role as PersonRole };
}

/** A random password for a person who was given none: 18 bytes, 24 characters. */
export const newPassword = () => randomBytes(18).toString('base64url');

export class UserExistsError extends Error {}

export async function createUser(
  store: Store,
  name: string,
  role: PersonRole,
  password: string,
): Promise<void> {
  try {
    await store.user.create({ data: { name, role, passwordHash: await hashPassword(password) } });
  } catch (err) {
    if ((err as { code?: string }).code === 'P2002')
      throw new UserExistsError(`a person named "${name}" exists`);
    throw err;
  }
}

/**
 * Sets the person's password and role, creating them if needed and enabling them again, and ends their
 * sessions: for a forgotten password, and for tools (the demo) that own a person and run again.
 */
export async function resetUser(
  store: Store,
  name: string,
  role: PersonRole,
  password: string,
): Promise<void> {
  const data = { role, passwordHash: await hashPassword(password), disabledAt: null };
  await store.$transaction(async (tx) => {
    const user = await tx.user.upsert({ where: { name }, create: { name, ...data }, update: data });
    await tx.session.deleteMany({ where: { userId: user.id } });
  });
}

/** Disables the person and ends their sessions; false when no enabled person has the name. */
export async function disableUser(store: Store, name: string): Promise<boolean> {
  return store.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { name } });
    if (!user || user.disabledAt) return false;
    await tx.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    await tx.session.deleteMany({ where: { userId: user.id } });
    return true;
  });
}
