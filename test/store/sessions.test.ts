// People sign in to the API (issue 15, item 4) on both databases: a wrong password is refused and a name
// is locked out after too many; a session is a cookie (httpOnly, SameSite=Strict) whose secret is stored
// only hashed, ends when it expires or idles, and is refused through a host not allowed; a state-changing
// request made with it needs the session's CSRF token; the person's role is enforced as a key's is; and
// the person, not a typed name, is the actor of the audit row, whose chain still verifies.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitsFromEnv, SIGN_IN_WINDOW_S } from '../../api/rate-limit.ts';
import { verifyAuditChain } from '../../lib/audit/chain.ts';
import { hashKey } from '../../lib/auth/keys.ts';
import { CSRF_HEADER, SESSION_COOKIE } from '../../lib/auth/sessions.ts';
import { createUser, disableUser, type PersonRole } from '../../lib/auth/users.ts';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';
import { registerTestModel } from '../helpers/traffic.ts';

const PASSWORD = 'correct horse battery staple';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON they expect after checking the status
  body: any;
}

/** A request with exactly these headers (fetch would not let a test choose Host). */
function request(url: string, method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method, headers: { ...(text ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: data ? JSON.parse(data) : null }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

interface SignedIn {
  cookie: string;
  csrfToken: string;
  secret: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
}

async function signIn(api: TestApi, name: string, password = PASSWORD): Promise<SignedIn> {
  const res = await request(api.url, 'POST', '/v1/sessions', {}, { name, password });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const setCookie = res.headers['set-cookie']![0]!;
  const secret = new RegExp(`^${SESSION_COOKIE}=([^;]+)`).exec(setCookie)![1]!;
  const cookie = `${SESSION_COOKIE}=${secret}`;
  const csrfToken = res.body.csrfToken as string;
  return {
    cookie,
    csrfToken,
    secret,
    call: (method, path, body, headers = {}) =>
      request(api.url, method, path, { cookie, [CSRF_HEADER]: csrfToken, ...headers }, body),
  };
}

describeEachProvider('people signed in on %s', (provider) => {
  let db: TestDatabase;
  let api: TestApi;
  let clock = Date.now();
  const people: Record<PersonRole, string> = { viewer: 'victor', operator: 'alice', admin: 'ada' };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    const limits = rateLimitsFromEnv(
      { ...process.env, HOMEOSTAT_REFUSED_LIMIT: '0', HOMEOSTAT_SIGNIN_LIMIT: '3' },
      () => clock,
    );
    api = await startTestApi(db.store, undefined, undefined, limits);
    const credit = await registerTestModel(db.store, 'credit');
    await db.store.modelVersion.create({
      data: { modelId: credit.id, version: 1, status: 'candidate', artifact: { kind: 'none' } },
    });
    for (const [role, name] of Object.entries(people))
      await createUser(db.store, name, role as PersonRole, PASSWORD);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('signs a person in with an httpOnly, SameSite=Strict cookie whose secret is stored only hashed', async () => {
    const res = await request(api.url, 'POST', '/v1/sessions', {}, { name: 'alice', password: PASSWORD });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'person', name: 'alice', role: 'operator' });
    const cookie = res.headers['set-cookie']![0]!;
    expect(cookie).toMatch(
      new RegExp(`^${SESSION_COOKIE}=[\\w-]{43}; Path=/; HttpOnly; SameSite=Strict; Expires=`),
    );
    expect(cookie).not.toContain('Secure'); // plain HTTP here; Secure over HTTPS
    const secret = cookie.split(';')[0]!.split('=')[1]!;
    const stored = await db.store.session.findMany({ where: { user: { name: 'alice' } } });
    expect(stored.map((s) => s.hash)).toContain(hashKey(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);

    const whoami = await request(api.url, 'GET', '/v1/sessions/current', {
      cookie: `${SESSION_COOKIE}=${secret}`,
    });
    expect(whoami).toMatchObject({
      status: 200,
      body: { kind: 'person', name: 'alice', role: 'operator', csrfToken: res.body.csrfToken },
    });
  });

  it('refuses a wrong password and an unknown name alike (401)', async () => {
    for (const name of ['alice', 'nobody']) {
      const res = await request(api.url, 'POST', '/v1/sessions', {}, { name, password: 'not the password' });
      expect(res).toMatchObject({ status: 401, body: { error: { code: 'sign_in_failed' } } });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('locks a name out after too many failed sign-ins, the right password included, until the window passes', async () => {
    await createUser(db.store, 'bob', 'operator', PASSWORD);
    // alice failed once above: her failures are her own, not bob's.
    for (let i = 0; i < 3; i++) {
      const res = await request(api.url, 'POST', '/v1/sessions', {}, { name: 'bob', password: `guess ${i}` });
      expect(res.status).toBe(401);
    }
    const locked = await request(api.url, 'POST', '/v1/sessions', {}, { name: 'bob', password: PASSWORD });
    expect(locked).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    await signIn(api, 'alice');
    clock += (SIGN_IN_WINDOW_S / 3) * 1000; // one failure's worth of the window
    await signIn(api, 'bob');
  });

  it('needs the CSRF token for a state-changing request, and records the person as the actor', async () => {
    const alice = await signIn(api, 'alice');
    const change = { production: 1, reason: 'first deployment', actor: 'human:mallory' };
    const revisions = () => db.store.deploymentRevision.count();
    const before = await revisions();
    const missing = await request(
      api.url,
      'POST',
      '/v1/models/credit/deployment',
      { cookie: alice.cookie },
      change,
    );
    expect(missing).toMatchObject({ status: 403, body: { error: { code: 'csrf_token_mismatch' } } });
    const wrong = await alice.call('POST', '/v1/models/credit/deployment', change, {
      [CSRF_HEADER]: 'forged',
    });
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'csrf_token_mismatch' } } });
    // Another session's token is no better.
    const other = await signIn(api, 'alice');
    const crossed = await alice.call('POST', '/v1/models/credit/deployment', change, {
      [CSRF_HEADER]: other.csrfToken,
    });
    expect(crossed.status).toBe(403);
    expect(await revisions()).toBe(before);
    // Reads need no token.
    expect((await request(api.url, 'GET', '/v1/models/credit', { cookie: alice.cookie })).status).toBe(200);

    const done = await alice.call('POST', '/v1/models/credit/deployment', change);
    expect(done.status, JSON.stringify(done.body)).toBe(201);
    const [latest] = (await alice.call('GET', '/v1/models/credit/revisions?limit=1')).body.revisions;
    expect(latest).toMatchObject({ reason: 'first deployment', actor: 'human:alice' });
    expect((await verifyAuditChain(db.store, 'credit')).ok).toBe(true);
  });

  it("holds a person to their role, as a key's", async () => {
    const victor = await signIn(api, 'victor');
    expect((await victor.call('GET', '/v1/fleet')).status).toBe(200);
    const refused = await victor.call('POST', '/v1/models/credit/agent/pause', { reason: 'x' });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(refused.body.error.message).toContain('person "victor" has viewer');
    const alice = await signIn(api, 'alice');
    expect((await alice.call('GET', '/v1/keys')).status).toBe(403);
    const ada = await signIn(api, 'ada');
    expect((await ada.call('GET', '/v1/keys')).status).toBe(200);
  });

  it('refuses a session, and signing in, through a host name not allowed', async () => {
    const alice = await signIn(api, 'alice');
    const hosts: Record<string, string>[] = [
      { host: 'evil.example' },
      { 'x-forwarded-host': 'evil.example:3001' },
    ];
    for (const headers of hosts) {
      const read = await alice.call('GET', '/v1/models', undefined, headers);
      expect(read).toMatchObject({ status: 403, body: { error: { code: 'host_not_allowed' } } });
      const signing = await request(api.url, 'POST', '/v1/sessions', headers, {
        name: 'alice',
        password: PASSWORD,
      });
      expect(signing).toMatchObject({ status: 403, body: { error: { code: 'host_not_allowed' } } });
    }
    expect((await alice.call('GET', '/v1/models', undefined, { host: 'LOCALHOST:3001' })).status).toBe(200);
  });

  it('ends a session when it expires, idles, signs out or its person is disabled', async () => {
    const ended = async (who: SignedIn) => {
      const res = await who.call('GET', '/v1/sessions/current');
      expect(res).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
      expect(await db.store.session.count({ where: { hash: hashKey(who.secret) } })).toBe(0);
    };
    const expiring = await signIn(api, 'alice');
    await db.store.session.update({
      where: { hash: hashKey(expiring.secret) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    await ended(expiring);

    const idle = await signIn(api, 'alice');
    await db.store.session.update({
      where: { hash: hashKey(idle.secret) },
      data: { lastSeenAt: new Date(Date.now() - 31 * 60_000) },
    });
    await ended(idle);

    const leaving = await signIn(api, 'alice');
    expect(
      (await leaving.call('DELETE', '/v1/sessions/current', undefined, { [CSRF_HEADER]: '' })).status,
    ).toBe(403);
    const out = await leaving.call('DELETE', '/v1/sessions/current');
    expect(out.status).toBe(204);
    expect(out.headers['set-cookie']![0]).toMatch(
      new RegExp(`^${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Expires=Thu, 01 Jan 1970`),
    );
    await ended(leaving);

    await createUser(db.store, 'carol', 'operator', PASSWORD);
    const carol = await signIn(api, 'carol');
    await disableUser(db.store, 'carol');
    await ended(carol);
    const again = await request(api.url, 'POST', '/v1/sessions', {}, { name: 'carol', password: PASSWORD });
    expect(again.status).toBe(401);
  });

  it('keeps API keys working, a key winning over a cookie', async () => {
    const victor = await signIn(api, 'victor');
    const whoami = await api.call('GET', '/v1/sessions/current');
    expect(whoami).toMatchObject({ status: 200, body: { kind: 'key', name: 'test-admin', role: 'admin' } });
    const key = (await api.call('GET', '/v1/keys')).status;
    expect(key).toBe(200);
    const both = await victor.call('GET', '/v1/keys', undefined, { authorization: 'Bearer hs_unknown' });
    expect(both.status).toBe(401); // the key is checked, not the cookie
    expect((await api.call('DELETE', '/v1/sessions/current')).status).toBe(400);
  });
});

describe('npm run users', () => {
  let db: TestDatabase;
  let api: TestApi;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    api = await startTestApi(db.store);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const users = (args: string[], input?: string) =>
    new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(
        'npm',
        ['run', '--silent', 'users', '--', ...args],
        { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: `file:${db.config.url}` } },
        (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve({ stdout })),
      );
      child.stdin!.end(input ?? '');
    });

  it('creates a person with a one-time password, or one read from stdin; resets, lists and disables', {
    timeout: 120_000,
  }, async () => {
    const created = await users(['create', 'dana', '--role', 'operator']);
    const password = created.stdout.trim().split('\n').at(-1)!;
    expect(password).toMatch(/^[\w-]{24}$/);
    await signIn(api, 'dana', password);

    await users(['create', 'erin', '--role', 'viewer', '--password-stdin'], `${PASSWORD}\n`);
    expect((await signIn(api, 'erin')).csrfToken).toBeTruthy();
    await expect(users(['create', 'erin', '--role', 'viewer'])).rejects.toMatchObject({ code: 2 });
    await expect(users(['create', 'frank', '--role', 'ingest'])).rejects.toMatchObject({ code: 2 });
    await expect(
      users(['create', 'frank', '--role', 'viewer', '--password-stdin'], 'short\n'),
    ).rejects.toMatchObject({
      code: 2,
    });

    await users(['reset', 'erin', '--role', 'operator', '--password-stdin'], 'another long password\n');
    expect((await signIn(api, 'erin', 'another long password')).csrfToken).toBeTruthy();
    expect((await users(['list'])).stdout).toMatch(/^dana\toperator\tenabled\nerin\toperator\tenabled$/m);
    await users(['disable', 'dana']);
    expect((await users(['list'])).stdout).toMatch(/^dana\toperator\tdisabled /m);
    const refused = await request(api.url, 'POST', '/v1/sessions', {}, { name: 'dana', password });
    expect(refused.status).toBe(401);
  });
});
