import type { Client } from '@temporalio/client';
import type { KeyIdentity } from '../lib/auth/keys.ts';
import type { Store } from '../lib/db/client.ts';
import type { AgentOptions } from '../lib/temporal.ts';

/** What the request handlers need from the outside world. */
export interface ApiContext {
  store: Store;
  temporal: Client;
  agentOptions: AgentOptions;
}

// The key, or the person's session, a request was authenticated with (set by api/auth.ts). Declared here, beside what every route
// handler imports, so that any program compiling a route — the dashboard imports their response types —
// knows the field.
declare global {
  namespace Express {
    interface Request {
      identity?: KeyIdentity;
    }
  }
}
