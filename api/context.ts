import type { Client } from '@temporalio/client';
import type { Store } from '../lib/db/client.ts';
import type { AgentOptions } from '../lib/temporal.ts';

/** What the request handlers need from the outside world. */
export interface ApiContext {
  store: Store;
  temporal: Client;
  agentOptions: AgentOptions;
}
