// Rate limits: a token bucket per API key (HOMEOSTAT_RATE_LIMIT requests a second, bursts up to
// HOMEOSTAT_RATE_BURST), and one per client address for refused requests (no key, an unknown key, a
// missing role: HOMEOSTAT_REFUSED_LIMIT a minute), so that guessing keys cannot load the database or the
// key cache; and one per person's name for failed sign-ins (a lockout). Past a limit the answer is 429
// with Retry-After. Behind a reverse proxy the client's address is in X-Forwarded-For: HOMEOSTAT_TRUST_PROXY says which proxies to believe (Express's `trust proxy`).
import { HttpError } from './errors.ts';

/** Buckets remembered at most; the least recently used is forgotten first (memory stays bounded). */
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by name: each holds up to `burst` tokens and refills at `perSecond`. A rate of 0 turns
 * the limit off. `now` is injectable so that tests step time instead of sleeping.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until a token is free (0: one was free and is now taken). */
  take(name: string): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.refilled(name);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.perSecond);
  }

  /** Seconds until the bucket holds a token again, without taking one (0: it holds one). */
  waitFor(name: string): number {
    if (this.perSecond <= 0 || !this.buckets.has(name)) return 0;
    const bucket = this.refilled(name);
    return bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) / this.perSecond);
  }

  private refilled(name: string): Bucket {
    const now = this.now();
    const found = this.buckets.get(name);
    const bucket = found ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    // Re-inserted: the Map's order is the order of use, so the first entry is the least recently used.
    this.buckets.delete(name);
    this.buckets.set(name, bucket);
    if (this.buckets.size > MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
    return bucket;
  }
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a number of at least 0, not "${raw}"`);
  return value;
}

export interface RateLimits {
  /** Per key name. */
  perKey: TokenBuckets;
  /** Per client address, taken by each refused request. */
  refused: TokenBuckets;
  /** Per person's name, taken by each failed sign-in: a name out of tokens is locked out for a while. */
  signIn: TokenBuckets;
}

/** The window over which HOMEOSTAT_SIGNIN_LIMIT counts a name's failed sign-ins. */
export const SIGN_IN_WINDOW_S = 15 * 60;

/**
 * HOMEOSTAT_RATE_LIMIT (default 5000 a second per key; 0 turns it off), HOMEOSTAT_RATE_BURST (default
 * twice the rate), HOMEOSTAT_REFUSED_LIMIT (default 60 refused requests a minute per address, as a burst),
 * HOMEOSTAT_SIGNIN_LIMIT (default 5 failed sign-ins per name in 15 minutes; the name is then locked out
 * until the window lets another try, whoever tries and with whatever password).
 */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env, now?: () => number): RateLimits {
  const rate = positiveNumber('HOMEOSTAT_RATE_LIMIT', env.HOMEOSTAT_RATE_LIMIT, 5000);
  const burst = positiveNumber('HOMEOSTAT_RATE_BURST', env.HOMEOSTAT_RATE_BURST, rate * 2);
  const refused = positiveNumber('HOMEOSTAT_REFUSED_LIMIT', env.HOMEOSTAT_REFUSED_LIMIT, 60);
  const signIn = positiveNumber('HOMEOSTAT_SIGNIN_LIMIT', env.HOMEOSTAT_SIGNIN_LIMIT, 5);
  return {
    perKey: new TokenBuckets(rate, Math.max(1, burst), now),
    refused: new TokenBuckets(refused / 60, Math.max(1, refused), now),
    signIn: new TokenBuckets(signIn / SIGN_IN_WINDOW_S, Math.max(1, signIn), now),
  };
}

export function tooManyRequests(retryAfterSeconds: number, what: string): HttpError {
  return new HttpError(429, 'rate_limited', `${what}: retry after ${retryAfterSeconds} s`, undefined, {
    'Retry-After': String(retryAfterSeconds),
  });
}

/**
 * Express's `trust proxy` from HOMEOSTAT_TRUST_PROXY: unset or "false" trusts none (the socket's address
 * is the client's), a number trusts that many hops, anything else is a list of addresses or ranges
 * ("loopback", "10.0.0.0/8, 172.16.0.0/12"). "true" would believe any X-Forwarded-For, which lets a
 * client choose its address and escape the per-address limit: it is refused.
 */
export function trustProxyFromEnv(raw = process.env.HOMEOSTAT_TRUST_PROXY): boolean | number | string {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') {
    throw new Error('HOMEOSTAT_TRUST_PROXY=true would trust any client; name the proxies or a hop count');
  }
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}
