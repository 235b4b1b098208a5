// How the dashboard's server reaches the Homeostat API on a person's behalf: the proxy route
// (app/api/[...path]) for the browser's requests, and server-rendered pages for their own reads.
// HOMEOSTAT_API_URL names the API (default http://127.0.0.1:3000). A person's requests carry their
// session cookie; the host the browser used goes in X-Forwarded-Host, for the API's host check. Nobody
// signed in: reads go with HOMEOSTAT_DASHBOARD_API_KEY when it is set, and only when it is a viewer key
// (checked with the API once); nothing state-changing ever goes with it.
import { SESSION_COOKIE } from '../../lib/auth/sessions';

export const UPSTREAM_TIMEOUT_MS = 15_000;
export const SAFE_METHODS = new Set(['GET', 'HEAD']);

export const apiUrl = () => (process.env.HOMEOSTAT_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');

/**
 * The dashboard's own key, when it is a viewer key. Its role is asked of the API once per process (again
 * after the API could not answer); a key of any other role is never used: the caller answers 500.
 */
let serviceKeyRole: Promise<string | null> | undefined;

async function viewerKey(): Promise<string | null> {
  const key = process.env.HOMEOSTAT_DASHBOARD_API_KEY;
  if (!key) return null;
  serviceKeyRole ??= fetch(`${apiUrl()}/v1/sessions/current`, {
    headers: { authorization: `Bearer ${key}` },
    cache: 'no-store',
    signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
  })
    .then(async (res) => (res.ok ? ((await res.json()) as { role: string }).role : null))
    .catch(() => null);
  const role = await serviceKeyRole;
  if (role === null) serviceKeyRole = undefined; // the API was unreachable or refused: ask again next time
  if (role !== 'viewer') {
    throw new Error(
      role === null
        ? 'HOMEOSTAT_DASHBOARD_API_KEY could not be checked with the API'
        : `HOMEOSTAT_DASHBOARD_API_KEY must be a viewer key, not ${role}: the dashboard refuses to use it`,
    );
  }
  return key;
}

/**
 * Who a request to the API comes from, set on `headers`: the person's session, else (reads only) the
 * dashboard's viewer key. Throws when that key is not a viewer key or cannot be checked.
 */
export async function setCaller(
  headers: Headers,
  caller: { session: string | undefined; host: string | null; method: string },
): Promise<void> {
  if (caller.host) headers.set('x-forwarded-host', caller.host);
  if (caller.session) {
    headers.set('cookie', `${SESSION_COOKIE}=${caller.session}`);
  } else if (SAFE_METHODS.has(caller.method)) {
    const key = await viewerKey();
    if (key) headers.set('authorization', `Bearer ${key}`);
  }
}
