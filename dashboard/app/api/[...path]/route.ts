// Server-side proxy to the Homeostat API, so that the browser talks only to the dashboard's origin.
// HOMEOSTAT_API_URL names the API (default http://127.0.0.1:3000); HOMEOSTAT_DASHBOARD_API_KEY, when set,
// is sent as a bearer token (the API's keys arrive in a later issue; this is the one place that adds it).
import type { NextRequest } from 'next/server';

const REQUEST_HEADERS = ['accept', 'content-type'];
const RESPONSE_HEADERS = ['content-type', 'content-disposition', 'retry-after', 'x-homeostat-truncated'];
const UPSTREAM_TIMEOUT_MS = 15_000;

const apiUrl = () => (process.env.HOMEOSTAT_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');

function errorResponse(status: number, code: string, message: string): Response {
  return Response.json(
    { error: { status, code, message } },
    { status, headers: { 'cache-control': 'no-store' } },
  );
}

/** Headers for the API: the caller's content negotiation, and the dashboard's credentials. */
function upstreamHeaders(request: NextRequest): Headers {
  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  const apiKey = process.env.HOMEOSTAT_DASHBOARD_API_KEY;
  if (apiKey) headers.set('authorization', `Bearer ${apiKey}`);
  return headers;
}

/**
 * A state-changing request must come from a page of this dashboard, not from another site's form or
 * script. Browsers send Origin on such requests; tools like curl send none and are let through.
 */
function isCrossSite(request: NextRequest): boolean {
  const origin = request.headers.get('origin');
  if (origin === null) return false;
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host');
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

async function forward(request: NextRequest, { params }: { params: Promise<{ path: string[] }> }) {
  const { path } = await params;
  if (path[0] !== 'v1') return errorResponse(404, 'not_found', `no API route /${path.join('/')}`);
  if (request.method !== 'GET' && isCrossSite(request)) {
    return errorResponse(403, 'cross_site', 'state-changing requests must come from the dashboard itself');
  }
  const target = `${apiUrl()}/${path.map(encodeURIComponent).join('/')}${request.nextUrl.search}`;
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers: upstreamHeaders(request),
      body: request.method === 'GET' ? undefined : await request.arrayBuffer(),
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
  const headers = new Headers({ 'cache-control': 'no-store' });
  for (const name of RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(upstream.body, { status: upstream.status, headers });
}

export const GET = forward;
export const POST = forward;
export const PUT = forward;
