import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeatureRow, featureSchemaSchema } from '../../lib/domain.ts';
import {
  type ExternalTrainerConfigInput,
  ExternalTrainerError,
  type HttpModelArtifact,
  httpModelArtifactSchema,
  loadModel,
  ModelServerError,
  trainModel,
} from '../../lib/models/index.ts';
import { allowLoopbackEgress } from '../helpers/egress.ts';

const schema = featureSchemaSchema.parse([
  { name: 'x', type: 'numeric', nullable: true },
  { name: 'plan', type: 'categorical', categories: ['basic', 'pro'] },
]);
const rows: FeatureRow[] = [
  { x: 1, plan: 'basic' },
  { x: null, plan: 'pro' },
  { x: 3, plan: 'gold' },
];

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

interface Reply {
  status: number;
  body: string;
  delayMs?: number;
}

/** A stand-in for the user's model server and training webhook, one behaviour per path. */
function reply(url: string, body: Record<string, unknown>): Reply {
  const sent = (body.rows ?? []) as FeatureRow[];
  const json = (value: unknown): Reply => ({ status: 200, body: JSON.stringify(value) });
  switch (url) {
    case '/classifier':
      return json({
        outputs: sent.map((_, i) => ({
          prediction: i % 2 ? 'yes' : 'no',
          probabilities: { no: 0.8, yes: 0.2 },
        })),
      });
    case '/numeric-labels':
      return json({ outputs: sent.map(() => ({ prediction: 1, confidence: 0.7 })) });
    case '/regression':
      return json({ outputs: sent.map((row) => ({ prediction: Number(row.x ?? 0) * 2 })) });
    case '/slow':
      return { ...json({ outputs: [] }), delayMs: 2000 };
    case '/error':
      return { status: 500, body: 'model exploded: CUDA out of memory' };
    case '/not-json':
      return { status: 200, body: '<html>maintenance</html>' };
    case '/short':
      return json({ outputs: sent.slice(1).map(() => ({ prediction: 'no' })) });
    case '/train': {
      const query = `rows=${sent.length}&labels=${(body.labels as unknown[]).join('')}`;
      return json({ kind: 'http', task: body.task, url: `http://models.internal/v2?${query}` });
    }
    default:
      return { status: 503, body: 'training cluster busy' };
  }
}

allowLoopbackEgress();

let server: Server;
let base: string;
const received: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      const body = JSON.parse(text);
      received.push({ url: req.url!, headers: req.headers, body });
      const { status, body: answer, delayMs = 0 } = reply(req.url!.replace(/\?.*/, ''), body);
      setTimeout(
        () => res.writeHead(status, { 'content-type': 'application/json' }).end(answer),
        delayMs,
      ).unref();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const httpModel = (path: string, extra: Partial<HttpModelArtifact> = {}) =>
  loadModel({ kind: 'http', task: 'binary', url: `${base}${path}`, ...extra });

/** The error a promise rejects with, to assert on its fields. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('HTTP model adapter', () => {
  it('posts the rows as they are, with static and environment headers, and reads the outputs', async () => {
    process.env.HOMEOSTAT_MODEL_TEST_TOKEN = 'secret-token';
    const model = httpModel('/classifier', {
      headers: { 'x-tenant': 'acme' },
      headerEnv: { authorization: 'HOMEOSTAT_MODEL_TEST_TOKEN' },
    });
    const outputs = await model.predict(rows);
    const request = received.at(-1)!;
    expect(request.body).toEqual({ rows });
    expect(request.headers).toMatchObject({ 'x-tenant': 'acme', authorization: 'secret-token' });
    expect(request.headers['content-type']).toBe('application/json');
    // Without a confidence, the largest probability stands in for it.
    expect(outputs).toEqual([
      { prediction: 'no', confidence: 0.8, probabilities: { no: 0.8, yes: 0.2 } },
      { prediction: 'yes', confidence: 0.8, probabilities: { no: 0.8, yes: 0.2 } },
      { prediction: 'no', confidence: 0.8, probabilities: { no: 0.8, yes: 0.2 } },
    ]);
  });

  it('calls no loopback server unless the egress policy allows it', async () => {
    const allowed = process.env.HOMEOSTAT_EGRESS_ALLOW;
    const before = received.length;
    try {
      delete process.env.HOMEOSTAT_EGRESS_ALLOW;
      const error = await failure(httpModel('/classifier').predict(rows));
      expect(error).toBeInstanceOf(ModelServerError);
      expect(error.message).toBe(
        'model server is not reachable under the egress policy (a loopback address; see HOMEOSTAT_EGRESS_ALLOW)',
      );
      const trainer = await failure(train({ type: 'webhook', url: `${base}/train` }));
      expect(trainer.message).toMatch(/^training webhook is not reachable under the egress policy/);
      expect(received.length).toBe(before);
    } finally {
      process.env.HOMEOSTAT_EGRESS_ALLOW = allowed;
    }
  });

  it('takes numeric class predictions as labels and regression predictions as numbers', async () => {
    expect(await httpModel('/numeric-labels').predict(rows.slice(0, 1))).toEqual([
      { prediction: '1', confidence: 0.7 },
    ]);
    const regression = loadModel({ kind: 'http', task: 'regression', url: `${base}/regression` });
    expect(await regression.predict(rows)).toEqual([
      { prediction: 2, confidence: null },
      { prediction: 0, confidence: null },
      { prediction: 6, confidence: null },
    ]);
  });

  it('gives up after the timeout and says so', async () => {
    const started = Date.now();
    const error = await failure(httpModel('/slow', { timeoutMs: 150 }).predict(rows));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(ModelServerError);
    expect(error).toMatchObject({ url: `${base}/slow`, status: null, timedOut: true });
    expect(error.message).toBe('model server did not answer within 150 ms');
  });

  it('reports an error status, with the URL and an excerpt of the body for the log only', async () => {
    const error = (await failure(httpModel('/error?token=abc').predict(rows))) as ModelServerError;
    expect(error).toBeInstanceOf(ModelServerError);
    expect(error.message).toBe('model server answered HTTP 500');
    expect(error.forLog()).toEqual({
      url: `${base}/error`,
      status: 500,
      bodyExcerpt: 'model exploded: CUDA out of memory',
      cause: undefined,
    });
  });

  it('rejects malformed answers: not JSON, wrong shape, wrong number of outputs', async () => {
    expect((await failure(httpModel('/not-json').predict(rows))).message).toBe(
      'model server answered with invalid JSON',
    );
    expect((await failure(httpModel('/short').predict(rows))).message).toBe(
      'model server answered with an invalid response (outputs: expected 3 outputs, one per row)',
    );
    const regression = loadModel({ kind: 'http', task: 'regression', url: `${base}/classifier` });
    const error = await failure(regression.predict(rows));
    expect(error).toBeInstanceOf(ModelServerError);
    expect(error.message).toMatch(/invalid response \(outputs\.0\.prediction: .*expected number/);
  });

  it('reports an unreachable server and a missing header variable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/predict`;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(loadModel({ kind: 'http', task: 'binary', url }).predict(rows));
    expect(error).toBeInstanceOf(ModelServerError);
    expect(error.message).toBe('model server could not be reached (ECONNREFUSED)');

    expect(() =>
      httpModel('/classifier', { headerEnv: { authorization: 'HOMEOSTAT_MODEL_TEST_UNSET' } }),
    ).toThrow('header authorization needs environment variable HOMEOSTAT_MODEL_TEST_UNSET, which is not set');
  });

  it('reads header values only from HOMEOSTAT_MODEL_* variables', () => {
    process.env.HOMEOSTAT_MODEL_TOKEN_OK = 'fine';
    // An artifact stored before the rule (the schema refuses it now) still cannot read other variables.
    for (const variable of ['DATABASE_URL', 'PATH', 'HOMEOSTAT_WEBHOOK_SECRET', 'HOMEOSTAT_MODEL_']) {
      expect(() => httpModel('/classifier', { headerEnv: { authorization: variable } }), variable).toThrow(
        `header authorization: ${variable} is not readable; headerEnv must name an environment variable whose name starts with HOMEOSTAT_MODEL_`,
      );
    }
    expect(() =>
      httpModel('/classifier', { headerEnv: { authorization: 'HOMEOSTAT_MODEL_TOKEN_OK' } }),
    ).not.toThrow();
    const parsed = httpModelArtifactSchema.safeParse({
      kind: 'http',
      task: 'binary',
      url: 'https://models.example/predict',
      headerEnv: { authorization: 'DATABASE_URL' },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['headerEnv', 'authorization'],
        message:
          'must name an environment variable whose name starts with HOMEOSTAT_MODEL_ (letters, digits and _)',
      }),
    ]);
  });
});

const train = (config: ExternalTrainerConfigInput) =>
  trainModel('external', 'binary', schema, { rows, labels: [0, 1, 1] }, config);

describe('external trainer', () => {
  /** A training command as a node one-liner: `node -e <script> ...args`. */
  const node = (script: string, args: string[] = [], timeoutMs?: number): ExternalTrainerConfigInput => ({
    type: 'command',
    command: process.execPath,
    args: ['-e', script, ...args],
    timeoutMs,
  });

  it('runs a command on the JSONL training data and reads the artifact it prints', async () => {
    // Reads the data file named in its arguments and the schema named in the environment, then answers
    // with an artifact for a model server that "now serves" the result.
    const script = `
      const fs = require('node:fs');
      const lines = fs.readFileSync(process.argv[1], 'utf8').trim().split('\\n').map(JSON.parse);
      const schema = JSON.parse(fs.readFileSync(process.env.HOMEOSTAT_FEATURE_SCHEMA, 'utf8'));
      const labels = lines.map((l) => l.label).join('');
      const query = 'rows=' + lines.length + '&labels=' + labels + '&features=' + schema.length;
      const nullX = lines.filter((l) => l.features.x === null).length;
      console.log(JSON.stringify({ kind: 'http', task: process.env.HOMEOSTAT_TASK,
        url: 'http://models.internal/v2?' + query + '&nullX=' + nullX + '&dir=' + process.argv[1] }));`;
    const artifact = await train(node(script, ['{data}']));
    expect(artifact).toMatchObject({ kind: 'http', task: 'binary' });
    const url = new URL((artifact as HttpModelArtifact).url);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      rows: '3',
      labels: '011',
      features: '2',
      nullX: '1',
    });
    // The temporary training data is gone once the command has finished.
    expect(url.searchParams.get('dir')).toMatch(/homeostat-train-.*train\.jsonl$/);
    expect(existsSync(url.searchParams.get('dir')!)).toBe(false);
  });

  it('prefers the artifact file over stdout when the command writes one', async () => {
    const script = `
      console.log('epoch 1/1 done');
      require('node:fs').writeFileSync(process.env.HOMEOSTAT_ARTIFACT_PATH,
        JSON.stringify({ kind: 'http', task: 'binary', url: 'http://models.internal/v3', timeoutMs: 500 }));`;
    expect(await train(node(script))).toEqual({
      kind: 'http',
      task: 'binary',
      url: 'http://models.internal/v3',
      timeoutMs: 500,
    });
  });

  it('reports a failing command with its exit code and stderr', async () => {
    const error = await failure(train(node(`console.error('could not read data'); process.exit(3);`)));
    expect(error).toBeInstanceOf(ExternalTrainerError);
    expect(error.message).toBe(
      `training command ${process.execPath} exited with code 3: could not read data`,
    );
  });

  it('kills a command that runs past its timeout', async () => {
    const started = Date.now();
    const error = await failure(train(node('setInterval(() => {}, 1000);', [], 300)));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error.message).toBe(
      `training command ${process.execPath} did not finish within 300 ms and was killed`,
    );
  });

  it('rejects output that is not a valid artifact for the task', async () => {
    expect((await failure(train(node(`console.log('training finished')`)))).message).toBe(
      `training command ${process.execPath} did not produce artifact JSON; it wrote: training finished`,
    );
    expect((await failure(train(node(`console.log(JSON.stringify({ kind: 'svm' }))`)))).message).toMatch(
      /produced an invalid artifact: kind: Invalid discriminator value/,
    );
    const regression = `console.log(JSON.stringify({ kind: 'http', task: 'regression', url: 'http://m.internal/' }))`;
    expect((await failure(train(node(regression)))).message).toBe(
      `training command ${process.execPath} produced a model for a regression task, not binary`,
    );
  });

  it('reports a command that cannot start, and an invalid configuration', async () => {
    const missing = await failure(train({ type: 'command', command: 'homeostat-no-such-trainer' }));
    expect(missing.message).toMatch(/^training command homeostat-no-such-trainer could not start: .*ENOENT/);
    const invalid = await failure(train({ type: 'command' } as ExternalTrainerConfigInput));
    expect(invalid).toBeInstanceOf(ExternalTrainerError);
    expect(invalid.message).toMatch(/^invalid external trainer config: command: /);
  });

  it('posts the training data to a webhook and returns the artifact it answers with', async () => {
    const artifact = await train({
      type: 'webhook',
      url: `${base}/train`,
      headers: { authorization: 'Bearer t' },
    });
    expect(artifact).toEqual({
      kind: 'http',
      task: 'binary',
      url: 'http://models.internal/v2?rows=3&labels=011',
    });
    const request = received.at(-1)!;
    expect(request.body).toEqual({ task: 'binary', schema, rows, labels: [0, 1, 1] });
    expect(request.headers.authorization).toBe('Bearer t');

    const error = await failure(train({ type: 'webhook', url: `${base}/train-busy` }));
    expect(error).toBeInstanceOf(ExternalTrainerError);
    expect(error.cause).toBeInstanceOf(ModelServerError);
    expect(error.message).toMatch(/^training webhook answered HTTP 503 \(correlation id [0-9a-f-]{36}\)$/);
  });
});
