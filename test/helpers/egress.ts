// Outbound calls to loopback are refused by default (lib/net/egress.ts); suites whose model servers and
// webhook receivers listen on 127.0.0.1 allow it, as an operator would allow an internal host.
import { afterAll, beforeAll } from 'vitest';
import { EGRESS_ALLOW_ENV } from '../../lib/net/egress.ts';

export const LOOPBACK_EGRESS = '127.0.0.1';

/** Allows calls to 127.0.0.1 for the tests of the calling file (or describe block). */
export function allowLoopbackEgress(): void {
  let before: string | undefined;
  beforeAll(() => {
    before = process.env[EGRESS_ALLOW_ENV];
    process.env[EGRESS_ALLOW_ENV] = LOOPBACK_EGRESS;
  });
  afterAll(() => {
    if (before === undefined) delete process.env[EGRESS_ALLOW_ENV];
    else process.env[EGRESS_ALLOW_ENV] = before;
  });
}
