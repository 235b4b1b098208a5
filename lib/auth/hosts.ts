// The host names a browser may use to reach the dashboard (HOMEOSTAT_DASHBOARD_HOSTS, comma-separated;
// default the local names). A page served under any other name is refused: a DNS-rebinding site, whose
// own name resolves to the dashboard's address, cannot use the dashboard or its sessions. Both the
// dashboard (every request) and the API (every request made with a session) check it.

export const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

export function allowedHosts(raw: string | undefined = process.env.HOMEOSTAT_DASHBOARD_HOSTS): string[] {
  const named = (raw ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return named.length > 0 ? named : LOCAL_HOSTS;
}

/** The name of a Host header ("name:port", "[v6]:port"), lower case, without its port. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  return lower.replace(/:\d*$/, '');
}

export function isAllowedHost(host: string | null | undefined, allowed: string[] = allowedHosts()): boolean {
  return host !== null && host !== undefined && allowed.includes(hostName(host));
}
