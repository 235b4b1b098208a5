// A stand-in for the user's own rollout system (Argo Rollouts, a CI job) behind the `webhook` remedy
// (docs/extending.md). It takes the agent's signed request, checks the signature, answers at once (202),
// then does its work — here, the rollback a rollout controller would do: the model's fallback version
// becomes production, through Homeostat's API — and reports the result back to the remedy waiting for
// it. A real system would run its own pipeline instead of `act`.
//
//   HOMEOSTAT_URL=http://127.0.0.1:3000 HOMEOSTAT_API_KEY=<operator key> \
//   HOMEOSTAT_WEBHOOK_SECRET=<the worker's secret> PORT=4100 npx tsx examples/webhook-remedy/receiver.ts
//
// and in the model's policy: { "ladders": { "concept_drift": ["webhook", "fallback"] },
// "remedyWebhook": { "url": "http://127.0.0.1:4100/remedy", "timeout": "20 minutes" } }.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { verifyWebhookSignature } from '../../activities/incidents.ts';
import type { DeploymentFacts } from '../../lib/brain/contracts.ts';

/** What the agent asks (activities/webhook-remedy.ts webhookRemedyBody). */
export interface RemedyRequest {
  delivery: string;
  model: string;
  incidentId: string;
  reason: string;
  deployment: DeploymentFacts;
  answer: { path: string; within: string };
}

export interface RemedyOutcome {
  outcome: 'succeeded' | 'failed';
  detail: string;
}

export interface ReceiverOptions {
  /** Homeostat's API, called with an operator key of the model (homeostatApi). */
  api: HomeostatCall;
  /** HOMEOSTAT_WEBHOOK_SECRET: the worker signs with it. */
  secret: string;
  port?: number;
  /** The rollout itself; by default, the rollback below. */
  act?: (request: RemedyRequest, api: HomeostatCall) => Promise<RemedyOutcome>;
}

export type HomeostatCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: unknown }>;

/** Calls Homeostat's API at `url` with `apiKey`. */
export function homeostatApi(url: string, apiKey: string): HomeostatCall {
  return async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

export interface Receiver {
  url: string;
  /** Every verified request, once per delivery id. */
  requests: RemedyRequest[];
  /** The results reported back, by delivery id, with the API's answer. */
  reported: Map<string, { outcome: RemedyOutcome; status: number }>;
  /** Resolves once every request received so far has been acted on and reported. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** The rollback a rollout controller does: the stable (fallback) version serves as production again. */
export async function rollBackToStable(request: RemedyRequest, api: HomeostatCall): Promise<RemedyOutcome> {
  const { productionVersion, fallbackVersion } = request.deployment;
  if (fallbackVersion === null) return { outcome: 'failed', detail: 'no stable version to roll back to' };
  const res = await api('POST', `/v1/models/${encodeURIComponent(request.model)}/deployment`, {
    production: fallbackVersion,
    fallback: productionVersion,
    reason: `rollout system: rolled back for incident ${request.incidentId}`,
  });
  return res.status === 201
    ? { outcome: 'succeeded', detail: `rolled back to stable version ${fallbackVersion}` }
    : { outcome: 'failed', detail: `the rollback was refused: ${res.status} ${JSON.stringify(res.body)}` };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const act = options.act ?? rollBackToStable;
  const { api } = options;
  const requests: RemedyRequest[] = [];
  const reported = new Map<string, { outcome: RemedyOutcome; status: number }>();
  const work: Promise<void>[] = [];

  async function handle(request: RemedyRequest): Promise<void> {
    const outcome = await act(request, api).catch((error: Error) => ({
      outcome: 'failed' as const,
      detail: `the rollout failed: ${error.message}`,
    }));
    const res = await api('POST', request.answer.path, { ...outcome, actor: 'rollout-system' });
    reported.set(request.delivery, { outcome, status: res.status });
  }

  const server = createServer(async (req, res) => {
    const text = await readBody(req);
    if (!verifyWebhookSignature(text, req.headers['x-homeostat-signature'] as string, options.secret)) {
      res.writeHead(401).end('bad signature');
      return;
    }
    const request = JSON.parse(text) as RemedyRequest;
    // A retried delivery carries the same id: it is acknowledged again and acted on once.
    if (!requests.some((r) => r.delivery === request.delivery)) {
      requests.push(request);
      work.push(handle(request));
    }
    res.writeHead(202).end();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/remedy`,
    requests,
    reported,
    settled: async () => {
      await Promise.all(work);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`set ${name}`);
    return value;
  };
  const receiver = await startReceiver({
    api: homeostatApi(need('HOMEOSTAT_URL'), need('HOMEOSTAT_API_KEY')),
    secret: need('HOMEOSTAT_WEBHOOK_SECRET'),
    port: Number(process.env.PORT ?? 4100),
  });
  console.log(`rollout receiver listening at ${receiver.url}`);
}
