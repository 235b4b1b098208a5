// Server-side proxy to the Homeostat API, so that the browser talks only to the dashboard's origin.
// HOMEOSTAT_API_URL names the API (default http://127.0.0.1:3000). A person's requests carry their
// session: the session cookie and the X-CSRF-Token header go to the API, which checks both, and the
// cookie the API sets on signing in comes back (Secure when the browser came over HTTPS). The host the
// browser used goes in X-Forwarded-Host, set here whatever the browser sent, for the API's host check.
// Nobody signed in: reads go with HOMEOSTAT_DASHBOARD_API_KEY when it is set, and only when it is a viewer
// key (checked with the API once); nothing state-changing ever goes with it.
import type { NextRequest } from 'next/server';
import { CSRF_HEADER, SESSION_COOKIE } from '../../../../lib/auth/sessions';

const REQUEST_HEADERS = ['accept', 'content-type', CSRF_HEADER];
const RESPONSE_HEADERS = ['content-type', 'content-disposition', 'retry-after', 'x-homeostat-truncated'];
const UPSTREAM_TIMEOUT_MS = 15_000;
const SAFE_METHODS = new Set(['GET', 'HEAD']);

const apiUrl = () => (process.env.HOMEOSTAT_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');

function errorResponse(status: number, code: string, message: string): Response {
  return Response.json(
    { error: { status, code, message } },
    { status, headers: { 'cache-control': 'no-store' } },
  );
}

/**
 * The dashboard's own key, when it is a viewer key. Its role is asked of the API once per process (again
 * after the API could not answer); a key of any other role is never used: the dashboard answers 500.
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

/** Headers for the API: the caller's content negotiation, session and CSRF token, or the viewer key. */
async function upstreamHeaders(request: NextRequest): Promise<Headers> {
  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  const host = request.headers.get('host');
  if (host) headers.set('x-forwarded-host', host);
  const session = request.cookies.get(SESSION_COOKIE)?.value;
  if (session) {
    headers.set('cookie', `${SESSION_COOKIE}=${session}`);
  } else if (SAFE_METHODS.has(request.method)) {
    const key = await viewerKey();
    if (key) headers.set('authorization', `Bearer ${key}`);
  }
  return headers;
}

/**
 * A state-changing request must come from a page of this dashboard, not from another site's form or
 * script. Browsers send Origin on such requests; tools like curl send none and are let through (the
 * session's CSRF token still stops them).
 */
function isCrossSite(request: NextRequest): boolean {
  const origin = request.headers.get('origin');
  if (origin === null) return false;
  try {
    return new URL(origin).host !== request.headers.get('host');
  } catch {
    return true;
  }
}

/** The browser came over HTTPS: to this server directly, or through a proxy that says so. */
const overHttps = (request: NextRequest) =>
  request.nextUrl.protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https';

async function forward(request: NextRequest, { params }: { params: Promise<{ path: string[] }> }) {
  const { path } = await params;
  if (path[0] !== 'v1') return errorResponse(404, 'not_found', `no API route /${path.join('/')}`);
  if (!SAFE_METHODS.has(request.method) && isCrossSite(request)) {
    return errorResponse(403, 'cross_site', 'state-changing requests must come from the dashboard itself');
  }
  const target = `${apiUrl()}/${path.map(encodeURIComponent).join('/')}${request.nextUrl.search}`;
  let headers: Headers;
  try {
    headers = await upstreamHeaders(request);
  } catch (err) {
    return errorResponse(500, 'service_key_refused', (err as Error).message);
  }
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers,
      body: SAFE_METHODS.has(request.method) ? undefined : await request.arrayBuffer(),
      cache: 'no-store',
      redirect: 'manual',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
  } catch (err) {
    return errorResponse(
      502,
      'api_unreachable',
      `the Homeostat API did not answer: ${(err as Error).message}`,
    );
  }
  const answer = new Headers({ 'cache-control': 'no-store' });
  for (const name of RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) answer.set(name, value);
  }
  for (const cookie of upstream.headers.getSetCookie()) {
    answer.append(
      'set-cookie',
      overHttps(request) && !/;\s*Secure/i.test(cookie) ? `${cookie}; Secure` : cookie,
    );
  }
  return new Response(upstream.body, { status: upstream.status, headers: answer });
}

export const GET = forward;
export const POST = forward;
export const PUT = forward;
export const DELETE = forward;
