// Reads of the Homeostat API made by server-rendered pages, as the person who asked for the page (their
// session cookie, else the dashboard's viewer key: lib/upstream.ts).
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { SESSION_COOKIE } from '../../lib/auth/sessions';
import { signInHrefFor } from './format';
import { apiUrl, setCaller, UPSTREAM_TIMEOUT_MS } from './upstream';

export type ApiRead<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; message: string; issues: { path: string; message: string }[] };

/**
 * GETs `path` (from /v1) of the API. A refusal or an unreachable API is answered, for the page to show;
 * an ended session sends the person to sign in again, coming back to `here` afterwards.
 */
export async function serverApiRead<T>(path: string, here: string): Promise<ApiRead<T>> {
  const [cookieStore, requestHeaders] = await Promise.all([cookies(), headers()]);
  const session = cookieStore.get(SESSION_COOKIE)?.value;
  const upstream = new Headers({ accept: 'application/json' });
  let res: Response;
  try {
    await setCaller(upstream, { session, host: requestHeaders.get('host'), method: 'GET' });
    res = await fetch(`${apiUrl()}${path}`, {
      headers: upstream,
      cache: 'no-store',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
  } catch (err) {
    return {
      ok: false,
      status: 502,
      message: `the Homeostat API did not answer: ${(err as Error).message}`,
      issues: [],
    };
  }
  const body = (await res.json().catch(() => null)) as
    | (T & { error?: { code?: string; message?: string; issues?: { path: string; message: string }[] } })
    | null;
  if (res.ok && body) return { ok: true, data: body };
  if (res.status === 401 && body?.error?.code === 'unauthenticated') {
    redirect(signInHrefFor(here));
  }
  return {
    ok: false,
    status: res.status,
    message: body?.error?.message ?? `HTTP ${res.status}`,
    issues: body?.error?.issues ?? [],
  };
}
