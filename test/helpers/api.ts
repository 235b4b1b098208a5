// The API application on an ephemeral port, called over real HTTP.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { createApi } from '../../api/app.ts';
import { type RateLimits, rateLimitsFromEnv } from '../../api/rate-limit.ts';
import { type JsonCall, jsonClient } from '../../lib/api-client.ts';
import { rotateApiKey } from '../../lib/auth/keys.ts';
import type { Store } from '../../lib/db/client.ts';
import type { Role } from '../../lib/domain.ts';
import type { AgentOptions } from '../../lib/temporal.ts';
import { unreachableTemporal } from './temporal.ts';

/** An Authorization header for a key of the role, created (or re-keyed) in the store. */
export async function authHeader(store: Store, role: Role = 'admin'): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await rotateApiKey(store, `test-${role}`, role)}` };
}

export interface TestApi {
  url: string;
  /** Calls as an admin. */
  call: JsonCall;
  /** A client whose key has the given role (for access-control tests), or none at all. */
  as(role: Role | null): Promise<JsonCall>;
  close(): Promise<void>;
}

/** An HTTP server on an ephemeral loopback port, listening, and its base URL. */
export async function listenOnLoopback(listener: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * Without a Temporal client the API gets one of a Temporal that is down and refuses at once: registering
 * a model answers "agent not started" without waiting, and the agent's routes answer 503.
 */
export async function startTestApi(
  store: Store,
  givenTemporal?: Client,
  agentOptions: AgentOptions = { taskQueue: 'test' },
  /**
   * The rate limits. By default the environment's, except the per-address limit of refused requests:
   * access tests send many refused requests from one address on purpose.
   */
  limits: RateLimits = rateLimitsFromEnv({ ...process.env, HOMEOSTAT_REFUSED_LIMIT: '0' }),
): Promise<TestApi> {
  const temporal = givenTemporal ?? (await unreachableTemporal({ failFast: true }));
  const { server, url } = await listenOnLoopback(
    createApi({ store, temporal, agentOptions }, limits).listener,
  );
  // Idle keep-alive sockets stay open for the test's life: a server that closes one (after its default
  // 5 s) just as the client, on an event loop stalled by load, sends the next request on it resets that
  // request (fetch failed: ECONNRESET), as concurrent scenario runs saw on a loaded machine.
  server.keepAliveTimeout = 10 * 60_000;
  return {
    url,
    call: jsonClient(url, await authHeader(store)),
    as: async (role) => jsonClient(url, role ? await authHeader(store, role) : {}),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!givenTemporal) await temporal.connection.close();
    },
  };
}
