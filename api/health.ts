// Liveness and readiness, split so that an orchestrator restarts the API only when the API itself is
// stuck, not when something it depends on is down:
// - GET /healthz (liveness) answers from memory at once, whatever is down: the process serves HTTP.
// - GET /readyz (readiness) checks the database and Temporal, each within a deadline, and answers 503
//   when either is unavailable. Its result is kept for READY_CACHE_MS and concurrent probes share one
//   check, so probes cannot load the database or Temporal.
import type { Express } from 'express';
import type { ApiContext } from './context.ts';

/** How long a readiness probe waits for Temporal or the database. */
export const READY_DEADLINE_MS = 2_000;
/** How long one readiness result answers later probes. */
export const READY_CACHE_MS = 1_000;

type Check = 'ok' | 'unavailable';

export interface Readiness {
  status: 'ok' | 'degraded';
  db: Check;
  temporal: Check;
}

function within<T>(ms: number, work: () => Promise<T>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Check>((resolve) => {
    timer = setTimeout(() => resolve('unavailable'), ms);
  });
  const checked = work().then(
    (): Check => 'ok',
    (): Check => 'unavailable',
  );
  return Promise.race([checked, deadline]).finally(() => clearTimeout(timer));
}

export function addHealthRoutes(app: Express, { store, temporal }: ApiContext): void {
  let last: { at: number; result: Promise<Readiness> } | undefined;

  async function check(): Promise<Readiness> {
    const [db, temporalCheck] = await Promise.all([
      within(READY_DEADLINE_MS, () => store.$queryRawUnsafe('SELECT 1')),
      // A deadline Temporal's client knows too: an unreachable Temporal is otherwise retried for ~20 s.
      within(READY_DEADLINE_MS, () =>
        temporal.withDeadline(Date.now() + READY_DEADLINE_MS, () =>
          temporal.workflowService.getSystemInfo({}),
        ),
      ),
    ]);
    const ok = db === 'ok' && temporalCheck === 'ok';
    return { status: ok ? 'ok' : 'degraded', db, temporal: temporalCheck };
  }

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const now = Date.now();
    if (!last || now - last.at > READY_CACHE_MS) last = { at: now, result: check() };
    const readiness = await last.result;
    res.status(readiness.status === 'ok' ? 200 : 503).json(readiness);
  });
}
