// Who may call what. Every request under /v1 needs `Authorization: Bearer <key>`; the rule table below
// gives the least role each route needs, one entry per route, matched the way Express routes (case and a
// trailing slash ignored); a request that matches no rule needs `admin` (deny by default).
// /healthz, /metrics and /openapi.json are open: they are what load balancers, Prometheus and client
// generators read, and they reveal no model data.
import type { RequestHandler } from 'express';
import { createKeyVerifier, type KeyIdentity } from '../lib/auth/keys.ts';
import type { Store } from '../lib/db/client.ts';
import type { Role } from '../lib/domain.ts';
import { HttpError } from './errors.ts';

declare global {
  namespace Express {
    interface Request {
      identity?: KeyIdentity;
    }
  }
}

/** What each role may do beyond its own name: admin ⊃ operator ⊃ viewer; ingest stands alone. */
const GRANTS: Record<Role, Role[]> = {
  ingest: ['ingest'],
  viewer: ['viewer'],
  operator: ['operator', 'viewer'],
  admin: ['admin', 'operator', 'viewer', 'ingest'],
};

/**
 * The least role of every route, keyed as "METHOD /path/{param}" exactly as the app mounts it
 * (api/openapi.ts mountedRoutes reads the same keys from Express; a test fails when the two differ).
 * A request that matches no entry needs admin: deny by default.
 */
export const ACCESS_RULES: Record<string, Role> = {
  'GET /v1/models': 'viewer',
  'POST /v1/models': 'operator',
  'GET /v1/models/{model}': 'viewer',
  'PATCH /v1/models/{model}': 'operator',
  'POST /v1/models/{model}/predict': 'ingest',
  'POST /v1/models/{model}/predictions': 'ingest',
  'POST /v1/models/{model}/labels': 'ingest',
  'GET /v1/models/{model}/policy': 'viewer',
  'GET /v1/models/{model}/agent': 'viewer',
  'POST /v1/models/{model}/agent/pause': 'operator',
  'POST /v1/models/{model}/agent/resume': 'operator',
  'POST /v1/models/{model}/agent/approve': 'operator',
  'POST /v1/models/{model}/agent/reject': 'operator',
  'POST /v1/models/{model}/agent/acknowledge': 'operator',
  'POST /v1/models/{model}/agent/revert': 'operator',
  'PUT /v1/models/{model}/agent/policy': 'operator',
  'POST /v1/models/{model}/versions': 'operator',
  'GET /v1/models/{model}/versions': 'viewer',
  'GET /v1/models/{model}/versions/{version}': 'viewer',
  'PATCH /v1/models/{model}/versions/{version}': 'operator',
  'GET /v1/models/{model}/deployment': 'viewer',
  'POST /v1/models/{model}/deployment': 'operator',
  'GET /v1/models/{model}/revisions': 'viewer',
  'POST /v1/models/{model}/revisions/{revision}/restore': 'operator',
  'GET /v1/models/{model}/windows': 'viewer',
  'GET /v1/models/{model}/drift': 'viewer',
  'GET /v1/models/{model}/decisions': 'viewer',
  'GET /v1/models/{model}/incidents': 'viewer',
  'GET /v1/fleet': 'viewer',
  'GET /v1/fleet/{model}': 'viewer',
  'GET /v1/incidents/{id}': 'viewer',
  'GET /v1/actions': 'viewer',
  'GET /v1/keys': 'admin',
  'POST /v1/keys': 'admin',
  'DELETE /v1/keys/{name}': 'admin',
};

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

const COMPILED = Object.entries(ACCESS_RULES).map(([route, role]) => ({
  route,
  role,
  ...routePattern(route),
}));

/** The rule a request falls under, with the route it names and its path parameters; null: none (admin). */
export function accessRuleFor(
  method: string,
  path: string,
): { route: string; role: Role; params: Record<string, string> } | null {
  // Express answers HEAD with the GET handler, so HEAD needs what GET needs.
  const routed = method === 'HEAD' ? 'GET' : method;
  for (const rule of COMPILED) {
    if (rule.method !== routed) continue;
    const match = rule.pattern.exec(path);
    if (match) return { route: rule.route, role: rule.role, params: { ...match.groups } };
  }
  return null;
}

export function requiredRole(method: string, path: string): Role {
  return accessRuleFor(method, path)?.role ?? 'admin';
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
    const role = requiredRole(req.method, req.path);
    if (!GRANTS[identity.role].includes(role)) {
      throw new HttpError(
        403,
        'forbidden',
        `${req.method} ${req.path} needs the ${role} role; key "${identity.name}" has ${identity.role}`,
      );
    }
    req.identity = identity;
    next();
  };
}
