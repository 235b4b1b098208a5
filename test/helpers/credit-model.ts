// The credit-default demo model for registry, gateway and ingestion tests: its rows and labels, a real
// logistic regression trained on them, and a stand-in for a user's HTTP model server that can be slow
// or fail.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonCall } from '../../lib/api-client.ts';
import type { FeatureRow } from '../../lib/domain.ts';
import { type HttpModelArtifact, type ModelArtifact, trainModel } from '../../lib/models/index.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { Random } from '../../lib/sim/random.ts';

export const CREDIT_LABELS = ['0', '1'];

/** `n` applicants from the reference population and whether each defaulted (0/1). */
export function creditData(n: number, seed: number): { rows: FeatureRow[]; labels: number[] } {
  const rng = new Random(seed);
  const rows = Array.from({ length: n }, () => creditDefault.sampleRow(rng));
  return { rows, labels: rows.map((row) => creditDefault.label(row, rng)) };
}

/** A logistic regression trained on `n` rows; different seeds give different models. */
export function trainCreditModel(n = 400, seed = 7, steps = 200): Promise<ModelArtifact> {
  return trainModel('logistic-regression', 'binary', creditDefault.schema, creditData(n, seed), { steps });
}

export async function registerCreditModel(
  call: JsonCall,
  name: string,
  settings: { onInvalid?: 'reject' | 'flag'; disabledResponse?: 'unavailable' | 'fallback' } = {},
): Promise<void> {
  const res = await call('POST', '/v1/models', {
    name,
    task: 'binary',
    featureSchema: creditDefault.schema,
    labels: CREDIT_LABELS,
    ...settings,
  });
  if (res.status !== 201) throw new Error(`registering ${name}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Registers a version and returns its number. */
export async function registerCreditVersion(call: JsonCall, name: string, body: unknown): Promise<number> {
  const res = await call('POST', `/v1/models/${name}/versions`, body);
  if (res.status !== 201) throw new Error(`registering a version: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.version.version;
}

export interface ModelServer {
  /** An 'http' artifact for a path: /ok answers at once, /slow after `slowMs`, /fail with HTTP 500. */
  artifact(path: '/ok' | '/slow' | '/fail'): HttpModelArtifact;
  /** Requests received per path. */
  received: Map<string, number>;
  /** Requests still being answered. */
  inFlight(): number;
  close(): Promise<void>;
}

/** Every row gets class '1' with probability 0.6, so its outputs are easy to tell apart. */
export const MODEL_SERVER_OUTPUT = {
  prediction: '1',
  confidence: 0.6,
  probabilities: { '0': 0.4, '1': 0.6 },
};

export async function startModelServer(slowMs: number): Promise<ModelServer> {
  const received = new Map<string, number>();
  let inFlight = 0;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      const path = req.url ?? '/';
      received.set(path, (received.get(path) ?? 0) + 1);
      inFlight++;
      const answer = () => {
        inFlight--;
        if (path === '/fail') {
          res.writeHead(500).end('model exploded: CUDA out of memory');
          return;
        }
        const rows = (JSON.parse(text) as { rows: unknown[] }).rows;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ outputs: rows.map(() => MODEL_SERVER_OUTPUT) }));
      };
      if (path === '/slow') setTimeout(answer, slowMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    artifact: (path) => ({ kind: 'http', task: 'binary', url: `${base}${path}`, timeoutMs: slowMs * 4 }),
    received,
    inFlight: () => inFlight,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` returns a value (not undefined/null/false) or the deadline passes. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
