// Schemathesis against the running API (real Express app on SQLite and on PostgreSQL, Temporal dev server
// and worker),
// with every check, its coverage, fuzzing and stateful phases (following the OpenAPI links from created
// and listed models, versions and revisions to the routes they name): no failures, no errors. Seeded and
// bounded so that CI on two cores gets the same run; npm run bench:fuzz runs a longer one. A missing
// Schemathesis fails here with how to install it (the test command bootstraps with --test, which
// installs it), never a silent skip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachProvider } from '../helpers/db.ts';
import {
  CI_FUZZ,
  type FuzzResult,
  type FuzzTarget,
  runSchemathesis,
  schemathesisCli,
  startFuzzTarget,
} from '../helpers/fuzz.ts';

describe('Schemathesis', () => {
  it('fails with how to install Schemathesis when it is missing, never skips', () => {
    const given = process.env.SCHEMATHESIS_PATH;
    process.env.SCHEMATHESIS_PATH = '/nonexistent/schemathesis';
    try {
      expect(() => schemathesisCli()).toThrow(/bash scripts\/bootstrap\.sh --fuzz/);
    } finally {
      if (given === undefined) delete process.env.SCHEMATHESIS_PATH;
      else process.env.SCHEMATHESIS_PATH = given;
    }
  });
});

describeEachProvider('Schemathesis against the running API on %s', (provider) => {
  let target: FuzzTarget;
  let result: FuzzResult;

  beforeAll(async () => {
    target = await startFuzzTarget(provider);
    result = await runSchemathesis(target, CI_FUZZ);
    // About three minutes on two quiet cores; much longer when the machine is shared.
  }, 900_000);

  afterAll(async () => {
    await target?.close();
  });

  it('finds no failure and no error with every check', () => {
    // On failure the CLI's own report (with a curl line per failure) is the message.
    expect(result.failures, result.output).toEqual([]);
    expect(result.errors, result.output).toEqual([]);
    expect(result.exitCode, result.output).toBe(0);
  });

  it('tests every operation of the document, with every check', () => {
    expect(result.operations.total).toBeGreaterThan(40);
    expect(result.operations.tested).toBe(result.operations.total);
    expect(result.cases).toBeGreaterThan(1000);
    expect(Object.keys(result.checks).sort()).toEqual(
      expect.arrayContaining([
        'ensure_resource_availability',
        'ignored_auth',
        'negative_data_rejection',
        'not_a_server_error',
        'positive_data_acceptance',
        'response_schema_conformance',
        'status_code_conformance',
        'unsupported_method',
        'use_after_free',
      ]),
    );
  });

  it('reaches deep routes with real ids through the OpenAPI links', async () => {
    // The stateful phase registered models of its own and followed their names to the agent routes:
    // agents were started and answered (the seeded model is the one the harness made).
    const models = await target.db.store.model.findMany({ select: { name: true } });
    expect(models.length).toBeGreaterThan(1);
    const agentCalls = await target.db.store.action.count({ where: { type: { in: ['pause', 'resume'] } } });
    expect(agentCalls).toBeGreaterThan(0);
  });

  it('answers every deep route from the state it exists for, not only "not found"', async () => {
    // The API's own request counter, by route pattern and status: which answers the fuzzer got.
    const answered = await answersByRoute(target.api.url);
    const deep = deepRoutes(await documentedRoutes(target.api.url));
    expect(deep.length).toBeGreaterThan(20);
    const statuses = (route: string) => answered.get(route) ?? [];
    const untouched = deep.filter((route) => route !== AWAITS_A_RECEIVER && !statuses(route).some(fromState));
    expect(untouched, JSON.stringify(Object.fromEntries(answered))).toEqual([]);
    // A read of something seeded succeeds.
    const unread = deep.filter((route) => route.startsWith('GET ') && !statuses(route).some((s) => s < 300));
    expect(unread, JSON.stringify(Object.fromEntries(answered))).toEqual([]);
  });
});

/**
 * The result of a webhook remedy names a child workflow that waits for it, and only an agent whose
 * ladder reached a `webhook` rung with a receiver listening starts one; the harness runs neither, so the
 * fuzzer's ids meet 404 there. Its answers from state are tested on the agent
 * (test/workflow/webhook-remedy.test.ts).
 */
const AWAITS_A_RECEIVER = 'POST /v1/models/:model/remedies/:delivery/result';

/** An answer given after the route found what its path names: success, or a refusal by state. */
function fromState(status: number): boolean {
  return status < 300 || status === 409 || status === 422 || status === 503;
}

async function documentedRoutes(url: string): Promise<string[]> {
  const document = (await (await fetch(`${url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(document.paths).flatMap(([route, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${route.replace(/\{(\w+)\}/g, ':$1')}`),
  );
}

/** Routes that name a resource in their path (the ones a generated id only reaches as 404). */
function deepRoutes(routes: string[]): string[] {
  return routes.filter((route) => route.includes(':')).sort();
}

async function answersByRoute(url: string): Promise<Map<string, number[]>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const answered = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const match = /^homeostat_http_requests_total\{([^}]*)\} (\d+)/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const key = `${labels.method} ${labels.route}`;
    answered.set(key, [...(answered.get(key) ?? []), Number(labels.status)]);
  }
  return answered;
}
