// Server-side proxy to the Homeostat API, so that the browser talks only to the dashboard's origin. Who
// the request comes from is lib/upstream.ts's: the session cookie (and the X-CSRF-Token header, which the
// API checks with it), else the viewer key for reads. The cookie the API sets on signing in comes back
// (Secure when the browser came over HTTPS). X-Forwarded-Host is set here whatever the browser sent.
import type { NextRequest } from 'next/server';
import { CSRF_HEADER, SESSION_COOKIE } from '../../../../lib/auth/sessions';
import { apiUrl, SAFE_METHODS, setCaller, UPSTREAM_TIMEOUT_MS } from '../../../lib/upstream';

const REQUEST_HEADERS = ['accept', 'content-type', CSRF_HEADER];
const RESPONSE_HEADERS = ['content-type', 'content-disposition', 'retry-after', 'x-homeostat-truncated'];

function errorResponse(status: number, code: string, message: string): Response {
  return Response.json(
    { error: { status, code, message } },
    { status, headers: { 'cache-control': 'no-store' } },
  );
}

/** Headers for the API: the caller's content negotiation, session and CSRF token, or the viewer key. */
async function upstreamHeaders(request: NextRequest): Promise<Headers> {
  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  await setCaller(headers, {
    session: request.cookies.get(SESSION_COOKIE)?.value,
    host: request.headers.get('host'),
    method: request.method,
  });
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
