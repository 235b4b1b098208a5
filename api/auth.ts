// Who may call what. Every request under /v1 needs `Authorization: Bearer <key>`; the rule table below
// gives the least role each route needs, one entry per route, matched the way Express routes (case and a
// trailing slash ignored); a request that matches no rule needs `admin` (deny by default).
// /healthz, /metrics and /openapi.json are open: they are what load balancers, Prometheus and client
// generators read, and they reveal no model data.
import type { RequestHandler } from 'express';
import { createKeyVerifier, EVERY_MODEL, type KeyIdentity, mayUseModel } from '../lib/auth/keys.ts';
import type { Store } from '../lib/db/client.ts';
import type { Role } from '../lib/domain.ts';
import { HttpError } from './errors.ts';

/** What each role may do beyond its own name: admin ⊃ operator ⊃ viewer; ingest stands alone. */
export const GRANTS: Record<Role, Role[]> = {
  ingest: ['ingest'],
  viewer: ['viewer'],
  operator: ['operator', 'viewer'],
  admin: ['admin', 'operator', 'viewer', 'ingest'],
};

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
};

const DEFAULT_RULE: AccessRule = { role: 'admin', models: 'fleet' };

/**
 * A route key as a pattern that matches what Express routes to that route (router 2 / path-to-regexp 8
 * with the app's defaults): case-insensitive, a parameter is one non-empty segment, and one trailing
 * slash is allowed. Matching the rules any more strictly than Express routes let `GET /v1/keys/` reach
 * the key list under a looser rule; any path these patterns miss falls to the admin default.
 */
function routePattern(route: string): { method: string; pattern: RegExp } {
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
    if (match) return { route, rule, params: { ...match.groups } };
  }
  return { route: null, rule: DEFAULT_RULE, params: {} };
}

export function requiredRole(method: string, path: string): Role {
  return accessRuleFor(method, path).rule.role;
}

/** A path parameter as Express hands it to the route (percent-decoded); undecodable: as sent. */
function decoded(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}

/**
 * Who the audit trail names for a person's act through the API (after `human:`): the key always, and the
 * person the caller types when it types one — `<actor> (key <key>)`, or `<key>`. A typed actor can
 * neither hide which key acted nor pass as the agent. Deployment changes and agent controls (pause,
 * approve, reject, acknowledge, revert, policy) are all recorded this way.
 */
export function actingAs(key: KeyIdentity, typedActor: string | undefined): string {
  const named = typedActor?.replace(/^human:/, '');
  return named && named !== key.name ? `${named} (key ${key.name})` : key.name;
}

const OPEN_PATHS = new Set(['/healthz', '/metrics', '/openapi.json']);

export function authenticate(store: Store): RequestHandler {
  const verify = createKeyVerifier(store);
  return async (req, _res, next) => {
    if (OPEN_PATHS.has(req.path)) return next();
    const header = req.get('authorization') ?? '';
    const secret = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!secret) {
      throw new HttpError(
        401,
        'unauthenticated',
        'send an API key as "Authorization: Bearer <key>"',
        undefined,
        {
          'WWW-Authenticate': 'Bearer',
        },
      );
    }
    const identity = await verify(secret);
    if (!identity) {
      throw new HttpError(401, 'unauthenticated', 'the API key is unknown or revoked', undefined, {
        'WWW-Authenticate': 'Bearer',
      });
    }
    const { rule, params } = accessRuleFor(req.method, req.path);
    if (!GRANTS[identity.role].includes(rule.role)) {
      throw new HttpError(
        403,
        'forbidden',
        `${req.method} ${req.path} needs the ${rule.role} role; key "${identity.name}" has ${identity.role}`,
      );
    }
    // Refused before the model is looked up, so the answer is the same whether it exists or not.
    const model = rule.models === 'path' ? decoded(params.model ?? '') : null;
    if (model !== null && !mayUseModel(identity, model)) {
      throw new HttpError(403, 'forbidden', `key "${identity.name}" is not scoped to model "${model}"`);
    }
    if (rule.models === 'fleet' && identity.models !== EVERY_MODEL) {
      throw new HttpError(
        403,
        'forbidden',
        `${req.method} ${req.path} concerns every model; key "${identity.name}" is scoped to some`,
      );
    }
    req.identity = identity;
    next();
  };
}
