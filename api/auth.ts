// Who may call what. Every request under /v1 needs `Authorization: Bearer <key>`; the rule table below
// gives the least role each route needs, and a route without a rule needs `admin` (deny by default).
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

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const MODEL = '/v1/models/[^/]+';
export const ACCESS_RULES: { method: Method; path: RegExp; role: Role }[] = [
  { method: 'POST', path: new RegExp(`^${MODEL}/(predict|predictions|labels)$`), role: 'ingest' },
  { method: 'GET', path: /^\/v1\/keys$/, role: 'admin' },
  { method: 'GET', path: /^\/v1\//, role: 'viewer' },
  { method: 'POST', path: /^\/v1\/models$/, role: 'operator' },
  { method: 'PATCH', path: new RegExp(`^${MODEL}$`), role: 'operator' },
  {
    method: 'POST',
    path: new RegExp(
      `^${MODEL}/(versions|deployment|agent/(pause|resume|approve|reject|acknowledge|revert))$`,
    ),
    role: 'operator',
  },
  { method: 'PATCH', path: new RegExp(`^${MODEL}/versions/[^/]+$`), role: 'operator' },
  { method: 'PUT', path: new RegExp(`^${MODEL}/agent/policy$`), role: 'operator' },
  { method: 'POST', path: new RegExp(`^${MODEL}/revisions/[^/]+/restore$`), role: 'operator' },
];

export function requiredRole(method: string, path: string): Role {
  return ACCESS_RULES.find((r) => r.method === method && r.path.test(path))?.role ?? 'admin';
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
