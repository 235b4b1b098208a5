// The API over real HTTP: a JSON client for any URL, and the application on an ephemeral port.
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { createApp } from '../../api/app.ts';
import type { Store } from '../../lib/db/client.ts';
import type { AgentOptions } from '../../lib/temporal.ts';

export interface JsonResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the JSON they receive, whatever its shape
  body: any;
  headers: Headers;
}
export type JsonCall = (method: string, path: string, body?: unknown) => Promise<JsonResponse>;

/** A JSON client for an API at `url`; a string body is sent as is (to test malformed JSON). */
export function jsonClient(url: string): JsonCall {
  return async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
}

export interface TestApi {
  url: string;
  call: JsonCall;
  close(): Promise<void>;
}

/**
 * Without a Temporal client the API gets a lazy one that never connects: the routes under test then
 * must not talk to Temporal (registry reads, ingestion).
 */
export async function startTestApi(
  store: Store,
  temporal: Client = new Client(),
  agentOptions: AgentOptions = { taskQueue: 'test' },
): Promise<TestApi> {
  const app = createApp({ store, temporal, agentOptions });
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    call: jsonClient(url),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
