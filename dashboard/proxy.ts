// Runs before every page and API request of the dashboard. A request for a host name not in
// HOMEOSTAT_DASHBOARD_HOSTS is refused (DNS rebinding: another site whose name resolves here). A page
// asked for by nobody signed in, when the dashboard has no viewer key of its own to show it with, goes
// to the sign-in page.
import { type NextRequest, NextResponse } from 'next/server';
import { isAllowedHost } from '../lib/auth/hosts';
import { SESSION_COOKIE } from '../lib/auth/sessions';

export function proxy(request: NextRequest) {
  const host = request.headers.get('host');
  if (!isAllowedHost(host)) {
    return new NextResponse(`host "${host ?? ''}" is not one of HOMEOSTAT_DASHBOARD_HOSTS\n`, {
      status: 403,
      headers: { 'content-type': 'text/plain', 'cache-control': 'no-store' },
    });
  }
  const { pathname, search } = request.nextUrl;
  const page = !pathname.startsWith('/api/') && pathname !== '/signin';
  if (page && !request.cookies.has(SESSION_COOKIE) && !process.env.HOMEOSTAT_DASHBOARD_API_KEY) {
    const signIn = new URL('/signin', request.url);
    signIn.searchParams.set('next', `${pathname}${search}`);
    return NextResponse.redirect(signIn);
  }
  return NextResponse.next();
}

export const config = {
  // Everything but the build's static files and the icon.
  matcher: ['/((?!_next/static|_next/image|icon.svg).*)'],
};
