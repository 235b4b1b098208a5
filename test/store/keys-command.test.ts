// `npm run keys -- …`, the command the README, docs/security.md and the demo tell a new user to type, run
// exactly so (through npm) against a migrated SQLite database: create, list and revoke a key.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../lib/auth/keys.ts';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const run = promisify(execFile);
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('sqlite');
});
afterAll(async () => {
  await db?.drop();
});

function keys(...args: string[]) {
  return run('npm', ['run', '--silent', 'keys', '--', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: `file:${db.config.url}` },
  });
}

describe('npm run keys', () => {
  it('creates, lists and revokes a key', { timeout: 120_000 }, async () => {
    const created = await keys('create', '--name', 'ci', '--role', 'ingest', '--models', 'credit-default');
    const secret = created.stdout.trim().split('\n').at(-1)!;
    const stored = await db.store.apiKey.findFirstOrThrow({ where: { name: 'ci' } });
    expect(stored.role).toBe('ingest');
    expect(stored.hash).toBe(hashKey(secret));

    expect((await keys('list')).stdout).toMatch(/^ci\tingest\tcredit-default\t.*\tactive$/m);
    expect((await keys('revoke', '--name', 'ci')).stdout).toContain('revoked "ci"');
    expect((await keys('list')).stdout).toMatch(/^ci\t.*\trevoked /m);
    await expect(keys('revoke', '--name', 'ci')).rejects.toMatchObject({ code: 2 });
  });
});
