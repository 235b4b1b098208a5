// The egress policy: where Homeostat's own outbound calls may go. Every call to an address a user
// configured — an HTTP model server (at registration, from the gateway, from the worker), an external
// training webhook, an escalation webhook — goes through `egressPost`, which resolves the host once,
// checks every address it resolved to, and connects to exactly those addresses (the socket's lookup
// answers with them), so a DNS answer that changes between the check and the connection cannot steer
// the call elsewhere. Redirects are never followed.
//
// Public addresses are allowed. Special-purpose ones (loopback, private, shared, link-local, unique-local,
// unspecified, multicast, reserved, documentation; IPv4 inside IPv6 as the IPv4 address it carries) are
// refused unless HOMEOSTAT_EGRESS_ALLOW names the host or a range that holds the address:
//
//   HOMEOSTAT_EGRESS_ALLOW="models.internal, *.svc.cluster.local, 10.20.0.0/16, 127.0.0.1, fd00::/8"
//
// Entries are separated by commas or white space: a host name (exact, case-insensitive), `*.` and a
// domain (any name below it, not the domain itself), an IP address, or a CIDR range. A host entry lets
// that name resolve to any address; a range lets any name resolve into it.
import { promises as dns } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

export const EGRESS_ALLOW_ENV = 'HOMEOSTAT_EGRESS_ALLOW';

// ---- addresses -------------------------------------------------------------------------------------

interface Address {
  family: 4 | 6;
  bytes: number[];
}

function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) {
    return null;
  }
  return parts.map(Number);
}

function parseIPv6(text: string): number[] | null {
  let rest = text;
  let tail: number[] = [];
  // A dotted IPv4 tail (::ffff:127.0.0.1) stands for the last 32 bits.
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(rest);
  if (dotted) {
    const v4 = parseIPv4(dotted[1]!);
    if (!v4) return null;
    tail = v4;
    rest = `${rest.slice(0, dotted.index)}:0:0`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const back = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - back.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...back];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const bytes = all.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (tail.length > 0) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** An IP address in canonical form, or null; brackets and an IPv6 zone (`%eth0`) are dropped. */
export function parseAddress(text: string): Address | null {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIP(bare) === 4) {
    const bytes = parseIPv4(bare);
    return bytes && { family: 4, bytes };
  }
  if (isIP(bare) === 6) {
    const bytes = parseIPv6(bare);
    return bytes && { family: 6, bytes };
  }
  return null;
}

export interface AddressRange {
  family: 4 | 6;
  bytes: number[];
  prefix: number;
}

function parseRange(text: string): AddressRange | null {
  const [ip, bits, extra] = text.split('/');
  if (extra !== undefined) return null;
  const address = parseAddress(ip!);
  if (!address) return null;
  const max = address.family === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return null;
  return { ...address, prefix };
}

function inRange(address: Address, range: AddressRange): boolean {
  if (address.family !== range.family) return false;
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const take = Math.min(8, range.prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((address.bytes[bit / 8]! & mask) !== (range.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

const range = (text: string) => parseRange(text)!;

/** What a special-purpose address is; anything else is 'public'. */
export type AddressUse =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'reserved';

// IANA's special-purpose registries (RFC 6890 and successors): the ranges a server-side call has no
// business reaching unless an operator says so. First match wins.
const SPECIAL_IPV4: [AddressRange, AddressUse][] = [
  [range('0.0.0.0/8'), 'unspecified'],
  [range('10.0.0.0/8'), 'private'],
  [range('100.64.0.0/10'), 'shared'],
  [range('127.0.0.0/8'), 'loopback'],
  [range('169.254.0.0/16'), 'link-local'],
  [range('172.16.0.0/12'), 'private'],
  [range('192.0.0.0/24'), 'reserved'],
  [range('192.0.2.0/24'), 'reserved'],
  [range('192.88.99.0/24'), 'reserved'],
  [range('192.168.0.0/16'), 'private'],
  [range('198.18.0.0/15'), 'reserved'],
  [range('198.51.100.0/24'), 'reserved'],
  [range('203.0.113.0/24'), 'reserved'],
  [range('224.0.0.0/4'), 'multicast'],
  [range('240.0.0.0/4'), 'reserved'],
];
const SPECIAL_IPV6: [AddressRange, AddressUse][] = [
  [range('::/128'), 'unspecified'],
  [range('::1/128'), 'loopback'],
  [range('100::/64'), 'reserved'],
  [range('2001:db8::/32'), 'reserved'],
  [range('fc00::/7'), 'unique-local'],
  [range('fe80::/10'), 'link-local'],
  [range('fec0::/10'), 'link-local'], // site-local, deprecated but still routed by some stacks
  [range('ff00::/8'), 'multicast'],
];
/** IPv6 forms that carry an IPv4 address, and where: a call to them reaches (or may reach) that address. */
const EMBEDDED_IPV4: [AddressRange, number][] = [
  [range('::ffff:0:0/96'), 12], // IPv4-mapped
  [range('::/96'), 12], // IPv4-compatible (deprecated)
  [range('64:ff9b::/96'), 12], // NAT64, well-known prefix
  [range('64:ff9b:1::/48'), 12], // NAT64, local-use prefix
  [range('2002::/16'), 2], // 6to4
];

/** The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4), else the address itself. */
export function effectiveAddress(address: Address): Address {
  if (address.family === 6) {
    for (const [r, at] of EMBEDDED_IPV4) {
      // ::/96 also holds :: and ::1, which are IPv6's own unspecified and loopback addresses.
      if (inRange(address, r) && !(at === 12 && address.bytes.slice(0, 15).every((b) => b === 0))) {
        return { family: 4, bytes: address.bytes.slice(at, at + 4) };
      }
    }
  }
  return address;
}

/** The special use of an IP address (as text, any standard spelling), or 'public'. */
export function classifyAddress(text: string): AddressUse {
  const parsed = parseAddress(text);
  if (!parsed) throw new Error(`not an IP address: ${text}`);
  const address = effectiveAddress(parsed);
  const table = address.family === 4 ? SPECIAL_IPV4 : SPECIAL_IPV6;
  return table.find(([r]) => inRange(address, r))?.[1] ?? 'public';
}

// ---- the policy ------------------------------------------------------------------------------------

export type AllowRule =
  | { kind: 'host'; name: string }
  | { kind: 'domain'; suffix: string }
  | { kind: 'range'; range: AddressRange };

export interface EgressPolicy {
  allow: AllowRule[];
}

export class EgressConfigError extends Error {
  override readonly name = 'EgressConfigError';
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const normaliseHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** Parses an allow-list; throws an EgressConfigError naming every entry it cannot read. */
export function parseEgressAllowList(text: string, source = EGRESS_ALLOW_ENV): EgressPolicy {
  const allow: AllowRule[] = [];
  const bad: string[] = [];
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const asRange = parseRange(entry);
    const name = normaliseHost(entry);
    if (asRange) allow.push({ kind: 'range', range: asRange });
    else if (name.startsWith('*.') && HOST_NAME.test(name.slice(2))) {
      allow.push({ kind: 'domain', suffix: name.slice(1) });
    } else if (HOST_NAME.test(name) && !/^[\d.]+$/.test(name)) allow.push({ kind: 'host', name });
    else bad.push(entry);
  }
  if (bad.length > 0) {
    throw new EgressConfigError(
      `${source}: cannot read ${bad.map((b) => `"${b}"`).join(', ')}; each entry is a host name ` +
        '(models.internal), a domain wildcard (*.svc.cluster.local), an IP address (10.0.0.5) ' +
        'or a CIDR range (10.0.0.0/8, fd00::/8), separated by commas',
    );
  }
  return { allow };
}

let cached: { text: string; policy: EgressPolicy } | undefined;

/**
 * The policy HOMEOSTAT_EGRESS_ALLOW configures (re-read when the variable changes). Processes call it at
 * start so that a bad entry stops them there, not at the first model call.
 */
export function egressPolicy(): EgressPolicy {
  const text = process.env[EGRESS_ALLOW_ENV] ?? '';
  if (cached?.text !== text) cached = { text, policy: parseEgressAllowList(text) };
  return cached.policy;
}

/**
 * For a process's start: the policy, or, when HOMEOSTAT_EGRESS_ALLOW cannot be read, the problem
 * reported through `fail` and the process ended (status 1) before it serves anything.
 */
export function egressPolicyAtStart(fail: (message: string) => void): EgressPolicy {
  try {
    return egressPolicy();
  } catch (error) {
    if (!(error instanceof EgressConfigError)) throw error;
    fail(error.message);
    process.exit(1);
  }
}

function hostAllowed(policy: EgressPolicy, host: string): boolean {
  const name = normaliseHost(host);
  return policy.allow.some(
    (rule) =>
      (rule.kind === 'host' && rule.name === name) || (rule.kind === 'domain' && name.endsWith(rule.suffix)),
  );
}

function addressAllowed(policy: EgressPolicy, address: Address): boolean {
  const effective = effectiveAddress(address);
  return policy.allow.some(
    (rule) => rule.kind === 'range' && (inRange(address, rule.range) || inRange(effective, rule.range)),
  );
}

/** A call the egress policy refuses; the message says which rule and how to allow it. */
export class EgressDeniedError extends Error {
  override readonly name = 'EgressDeniedError';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly use: AddressUse,
  ) {
    super(
      `the egress policy refuses ${host}: it resolves to a ${use} address; allow the host or its range in ${EGRESS_ALLOW_ENV} if it is meant to be reached`,
    );
  }
}

/** Whether the policy lets `host` (a name or an IP literal) be reached at `address`; throws if not. */
export function checkEgress(policy: EgressPolicy, host: string, address: string): void {
  const parsed = parseAddress(address);
  if (!parsed) throw new Error(`not an IP address: ${address}`);
  const use = classifyAddress(address);
  if (use === 'public' || hostAllowed(policy, host) || addressAllowed(policy, parsed)) return;
  throw new EgressDeniedError(host, address, use);
}

// ---- the call ---------------------------------------------------------------------------------------

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a host name to all its addresses (dns.lookup, as a connection would). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (host) => dns.lookup(host, { all: true, verbatim: true });

/**
 * Resolves the URL's host once and checks every address; answers the addresses to connect to (none
 * for an IP literal, which the socket connects to without a lookup).
 */
export async function resolveEgressTarget(
  url: URL,
  policy: EgressPolicy,
  resolve: Resolver = systemResolver,
): Promise<ResolvedAddress[]> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) {
    checkEgress(policy, host, host);
    return [];
  }
  const addresses = await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} did not resolve to any address`);
  // Every address, not just the first: the socket may try each of them.
  for (const { address } of addresses) checkEgress(policy, host, address);
  return addresses;
}

/** A socket lookup that answers with addresses already checked, instead of asking DNS again. */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_host, options, callback) => {
    if (options.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  };
}

export interface EgressRequest {
  headers: Record<string, string>;
  body: string;
  /** Covers the whole exchange, the answer's body included. */
  timeoutMs: number;
  /** Larger answers are cut off as an error; 64 MiB by default (a large forest artifact is a few MB). */
  maxResponseBytes?: number;
}

export interface EgressResponse {
  status: number;
  text: string;
}

export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
// Kept-alive sockets of their own: each was connected to an address the policy allowed.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/**
 * POSTs `body` to `url` under the egress policy and answers the status and the body as text, whatever
 * the status; a 3xx is answered as it is, never followed. Refused targets throw EgressDeniedError, a
 * timeout a TimeoutError (error.name), network failures their own error.
 */
export async function egressPost(
  target: string,
  request: EgressRequest,
  options: { policy?: EgressPolicy; resolve?: Resolver } = {},
): Promise<EgressResponse> {
  const url = new URL(target);
  const protocol = url.protocol as keyof typeof agents;
  if (!(protocol in agents)) throw new Error(`only http and https URLs can be called, not ${url.protocol}`);
  const signal = AbortSignal.timeout(request.timeoutMs);
  const addresses = await resolveEgressTarget(url, options.policy ?? egressPolicy(), options.resolve);
  signal.throwIfAborted();
  const limit = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const send = protocol === 'https:' ? https.request : http.request;
  return new Promise<EgressResponse>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        agent: agents[protocol],
        signal,
        ...(addresses.length > 0 ? { lookup: pinnedLookup(addresses) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > limit) {
            res.destroy(new ResponseTooLargeError(`the answer is larger than ${limit} bytes`));
          } else chunks.push(chunk);
        });
        res.on('error', (error) => reject(signal.aborted ? signal.reason : error));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', (error) => reject(signal.aborted ? signal.reason : error));
    req.end(request.body);
  });
}

/** A URL as logs may show it: no credentials, no query (tokens travel there), no fragment. */
export function urlForLog(target: string): string {
  try {
    const url = new URL(target);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Only the host, for URLs whose path is the secret part (webhooks of Slack, PagerDuty, …). */
export function hostForLog(target: string): string {
  try {
    return new URL(target).host;
  } catch {
    return '(invalid URL)';
  }
}
