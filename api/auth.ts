// Who may call what. Every request under /v1 needs an API key (`Authorization: Bearer <key>`, for
// machines) or a person's session (the dashboard's cookie, lib/auth/sessions.ts); the rule table below
// gives the least role each route needs, one entry per route, matched the way Express routes (case and a
// trailing slash ignored); a request that matches no rule needs `admin` (deny by default).
// /healthz, /readyz, /metrics and /openapi.json are open: they are what load balancers, Prometheus and client
// generators read, and they reveal no model data. Signing in (POST /v1/sessions) is open too.
// A request made with a session must also come through an allowed host name (lib/auth/hosts.ts), and a
// state-changing one must send the session's CSRF token in X-CSRF-Token: a cookie is sent by the browser
// whoever asks it to, a header only by the dashboard's own pages.
import type { RequestHandler } from 'express';
import { isAllowedHost } from '../lib/auth/hosts.ts';
import { createKeyVerifier, EVERY_MODEL, type KeyIdentity, mayUseModel } from '../lib/auth/keys.ts';
import {
  CSRF_HEADER,
  csrfMatches,
  resumeSession,
  SESSION_COOKIE,
  type SessionTimes,
  sessionTimesFromEnv,
} from '../lib/auth/sessions.ts';
import type { Store } from '../lib/db/client.ts';
import { GRANTS, type Role } from '../lib/domain.ts';
import { HttpError } from './errors.ts';
import { decodedParam } from './params.ts';
import { type RateLimits, rateLimitsFromEnv, tooManyRequests } from './rate-limit.ts';

/**
 * How a route is held to the models of the key's scope (lib/auth/keys.ts):
 * - path: the route's {model} must be in the scope; checked here, before anything else runs;
 * - answer: the route answers only about models in the scope (lists, an incident by id, the audit trail,
 *   registering a model named in the body): the handler applies it with `visibleModels`/`mayUseModel`;
 * - fleet: the route concerns every model (API keys), so it needs a key for every model ('*').
 */
export type ScopeCheck = 'path' | 'answer' | 'fleet';

export interface AccessRule {
  /** The least role the route needs. */
  role: Role;
  models: ScopeCheck;
}

/**
 * The rule of every route, keyed as "METHOD /path/{param}" exactly as the app mounts it
 * (api/openapi.ts mountedRoutes reads the same keys from Express; a test fails when the two differ).
 * A request that matches no entry needs admin and a key for every model: deny by default.
 */
export const ACCESS_RULES: Record<string, AccessRule> = {
  'GET /v1/models': { role: 'viewer', models: 'answer' },
  'POST /v1/models': { role: 'operator', models: 'answer' },
  'GET /v1/models/{model}': { role: 'viewer', models: 'path' },
  'PATCH /v1/models/{model}': { role: 'operator', models: 'path' },
  'GET /v1/models/{model}/segments': { role: 'viewer', models: 'path' },
  'PUT /v1/models/{model}/segments': { role: 'operator', models: 'path' },
  'POST /v1/models/{model}/predict': { role: 'ingest', models: 'path' },
  'POST /v1/models/{model}/predictions': { role: 'ingest', models: 'path' },
  'POST /v1/models/{model}/labels': { role: 'ingest', models: 'path' },
  'GET /v1/models/{model}/policy': { role: 'viewer', models: 'path' },
  'GET /v1/models/{model}/agent': { role: 'viewer', models: 'path' },
  'POST /v1/models/{model}/agent/pause': { role: 'operator', models: 'path' },
  'POST /v1/models/{model}/agent/resume': { role: 'operator', models: 'path' },
  'POST /v1/models/{model}/agent/approve': { role: 'operator', models: 'path' },
  'POST /v1/models/{model}/agent/reject': { role: 'operator', models: 'path' },
  'POST /v1/models/{model}/agent/acknowledge': { role: 'operator', models: 'path' },
  'POST /v1/models/{model}/agent/revert': { role: 'operator', models: 'path' },
  'PUT /v1/models/{model}/agent/policy': { role: 'operator', models: 'path' },
  // The user's rollout system reports a webhook remedy's result with an operator key of the model.
  'POST /v1/models/{model}/remedies/{delivery}/result': { role: 'operator', models: 'path' },
  'POST /v1/models/{model}/versions': { role: 'operator', models: 'path' },
  'GET /v1/models/{model}/versions': { role: 'viewer', models: 'path' },
  'GET /v1/models/{model}/versions/{version}': { role: 'viewer', models: 'path' },
  'PATCH /v1/models/{model}/versions/{version}': { role: 'operator', models: 'path' },
  'GET /v1/models/{model}/deployment': { role: 'viewer', models: 'path' },
  'POST /v1/models/{model}/deployment': { role: 'operator', models: 'path' },
  'GET /v1/models/{model}/revisions': { role: 'viewer', models: 'path' },
  'POST /v1/models/{model}/revisions/{revision}/restore': { role: 'operator', models: 'path' },
  'GET /v1/models/{model}/windows': { role: 'viewer', models: 'path' },
  'GET /v1/models/{model}/drift': { role: 'viewer', models: 'path' },
  'GET /v1/models/{model}/decisions': { role: 'viewer', models: 'path' },
  'GET /v1/models/{model}/incidents': { role: 'viewer', models: 'path' },
  'GET /v1/fleet': { role: 'viewer', models: 'answer' },
  'GET /v1/fleet/{model}': { role: 'viewer', models: 'path' },
  'GET /v1/incidents/{id}': { role: 'viewer', models: 'answer' },
  'GET /v1/actions': { role: 'viewer', models: 'answer' },
  'GET /v1/keys': { role: 'admin', models: 'fleet' },
  'POST /v1/keys': { role: 'admin', models: 'fleet' },
  'DELETE /v1/keys/{name}': { role: 'admin', models: 'fleet' },
  'GET /v1/audit/verify': { role: 'admin', models: 'fleet' },
  'GET /v1/sessions/current': { role: 'viewer', models: 'answer' },
  'DELETE /v1/sessions/current': { role: 'viewer', models: 'answer' },
};

/** Routes any caller may use, without a key or a session: signing in. */
export const PUBLIC_ROUTES = ['POST /v1/sessions'];

const DEFAULT_RULE: AccessRule = { role: 'admin', models: 'fleet' };

/**
 * A route key as a pattern that matches what Express routes to that route (router 2 / path-to-regexp 8
 * with the app's defaults): case-insensitive, a parameter is one non-empty segment, and one trailing
 * slash is allowed. Matching the rules any more strictly than Express routes let `GET /v1/keys/` reach
 * the key list under a looser rule; any path these patterns miss falls to the admin default.
 */
export function routePattern(route: string): { method: string; pattern: RegExp } {
  const [method, path] = route.split(' ') as [string, string];
  const source = path
    .split(/(\{\w+\})/)
    .map((part) => {
      const param = /^\{(\w+)\}$/.exec(part);
      return param ? `(?<${param[1]}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { method, pattern: new RegExp(`^${source}/?$`, 'i') };
}

const COMPILED = Object.entries(ACCESS_RULES).map(([route, rule]) => ({
  route,
  rule,
  ...routePattern(route),
}));

/** The rule a request falls under, with the route it names (null: none) and its path parameters. */
export function accessRuleFor(
  method: string,
  path: string,
): { route: string | null; rule: AccessRule; params: Record<string, string> } {
  // Express answers HEAD with the GET handler, so HEAD needs what GET needs.
  const routed = method === 'HEAD' ? 'GET' : method;
  for (const { route, rule, method: ruleMethod, pattern } of COMPILED) {
    if (ruleMethod !== routed) continue;
    const match = pattern.exec(path);
    if (match) return { route, rule, params: match.groups ?? {} };
  }
  return { route: null, rule: DEFAULT_RULE, params: {} };
}

export function requiredRole(method: string, path: string): Role {
  return accessRuleFor(method, path).rule.role;
}

/**
 * Who the audit trail names for a person's act through the API (after `human:`). Through a session: the
 * person signed in, whatever actor the body types. Through a key: the key always, and the person the
 * caller types when it types one — `<actor> (key <key>)`, or `<key>`. A typed actor can neither hide
 * which key acted nor pass as the agent. Deployment changes and agent controls (pause, approve, reject,
 * acknowledge, revert, policy) are all recorded this way.
 */
export function actingAs(identity: KeyIdentity, typedActor: string | undefined): string {
  if (identity.session) return identity.name;
  const named = typedActor?.replace(/^human:/, '');
  return named && named !== identity.name ? `${named} (key ${identity.name})` : identity.name;
}

/** An agent control's audit fields: the actor, and what the act came through (the key, or "session"). */
export const auditedAs = (identity: KeyIdentity, typedActor: string | undefined) => ({
  actor: actingAs(identity, typedActor),
  via: identity.session ? 'session' : identity.name,
});

/** How refusals name the caller. */
const callerName = (identity: KeyIdentity) =>
  identity.session ? `person "${identity.name}"` : `key "${identity.name}"`;

const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

const PUBLIC = PUBLIC_ROUTES.map(routePattern);

export const isPublicRoute = (method: string, path: string) =>
  PUBLIC.some((r) => r.method === method && r.pattern.test(path));

/** The value of a cookie of the request, or undefined. */
export function cookieOf(req: Caller, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * The host name the browser used: the dashboard's proxy forwards it in X-Forwarded-Host (setting it
 * itself, whatever the browser sent); a browser talking to the API directly sends it as Host.
 */
const browserHost = (req: Caller) => req.get('x-forwarded-host') ?? req.get('host');

/** Refuses a request whose browser came through a host name not allowed (lib/auth/hosts.ts). */
export function requireAllowedHost(req: Caller): void {
  const host = browserHost(req);
  if (!isAllowedHost(host)) {
    throw new HttpError(
      403,
      'host_not_allowed',
      `host "${host ?? ''}" is not one of HOMEOSTAT_DASHBOARD_HOSTS: sessions are refused through it`,
    );
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const unauthenticated = (message: string) =>
  new HttpError(401, 'unauthenticated', message, undefined, { 'WWW-Authenticate': 'Bearer' });

/**
 * What admission reads of a request: an Express request has it all; the gateway's fast path
 * (api/predict-listener.ts) gives the same from Node's request.
 */
export interface Caller {
  method: string;
  /** The URL's path as sent, without the query string. */
  path: string;
  /** The client's address, as Express's `trust proxy` works it out. */
  ip?: string | undefined;
  /** A header's value (names in any case). */
  get(name: string): string | undefined;
}

/**
 * Admits a request or throws its refusal: the identity it acts as (null: an open route). Checks the key or
 * session, its role and its scope, and the rate limits (api/rate-limit.ts): an address whose refused
 * requests used up its allowance is answered 429 before its key is looked up, and each key (or person) is
 * held to its own rate.
 */
export type Admission = (req: Caller) => Promise<KeyIdentity | null>;

export function createAdmission(
  store: Store,
  limits: RateLimits = rateLimitsFromEnv(),
  sessionTimes: SessionTimes = sessionTimesFromEnv(),
): Admission {
  const verify = createKeyVerifier(store);

  async function keyIdentity(header: string): Promise<KeyIdentity> {
    const secret = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!secret) throw unauthenticated('send an API key as "Authorization: Bearer <key>"');
    const identity = await verify(secret);
    if (!identity) throw unauthenticated('the API key is unknown or revoked');
    return identity;
  }

  async function sessionIdentity(req: Caller, secret: string): Promise<KeyIdentity> {
    requireAllowedHost(req);
    const identity = await resumeSession(store, secret, sessionTimes);
    if (!identity)
      throw unauthenticated('the session has ended (signed out, expired or idle): sign in again');
    if (!SAFE_METHODS.has(req.method) && !csrfMatches(req.get(CSRF_HEADER), identity.session.csrfToken)) {
      throw new HttpError(
        403,
        'csrf_token_mismatch',
        `a state-changing request with a session must send the session's token in ${CSRF_HEADER}`,
      );
    }
    return identity;
  }

  async function identify(req: Caller): Promise<KeyIdentity> {
    // A key wins over a cookie: a machine's request says who it is.
    const header = req.get('authorization');
    const session = header ? undefined : cookieOf(req, SESSION_COOKIE);
    const identity = session ? await sessionIdentity(req, session) : await keyIdentity(header ?? '');
    const { rule, params } = accessRuleFor(req.method, req.path);
    if (!GRANTS[identity.role].includes(rule.role)) {
      throw new HttpError(
        403,
        'forbidden',
        `${req.method} ${req.path} needs the ${rule.role} role; ${callerName(identity)} has ${identity.role}`,
      );
    }
    // Refused before the model is looked up, so the answer is the same whether it exists or not.
    const model = rule.models === 'path' ? decodedParam(params.model ?? '') : null;
    if (model !== null && !mayUseModel(identity, model)) {
      throw new HttpError(403, 'forbidden', `${callerName(identity)} is not scoped to model "${model}"`);
    }
    if (rule.models === 'fleet' && identity.models !== EVERY_MODEL) {
      throw new HttpError(
        403,
        'forbidden',
        `${req.method} ${req.path} concerns every model; ${callerName(identity)} is scoped to some`,
      );
    }
    return identity;
  }

  return async (req) => {
    if (OPEN_PATHS.has(req.path) || isPublicRoute(req.method, req.path)) return null;
    const address = req.ip ?? 'unknown';
    const blocked = limits.refused.waitFor(address);
    if (blocked > 0) throw tooManyRequests(blocked, 'too many refused requests from this address');
    let identity: KeyIdentity;
    try {
      identity = await identify(req);
    } catch (err) {
      if (err instanceof HttpError && (err.status === 401 || err.status === 403))
        limits.refused.take(address);
      throw err;
    }
    const bucket = identity.session ? `person:${identity.name}` : identity.name;
    const wait = limits.perKey.take(bucket);
    if (wait > 0) throw tooManyRequests(wait, `${callerName(identity)} is over its rate limit`);
    return identity;
  };
}

/** The admission as the app's middleware, ahead of every route. */
export function authenticate(admit: Admission): RequestHandler {
  return async (req, _res, next) => {
    req.identity = (await admit(req)) ?? undefined;
    next();
  };
}
