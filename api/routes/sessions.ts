// People sign in (POST /v1/sessions, open), see who they are (GET /v1/sessions/current) and sign out
// (DELETE /v1/sessions/current). Signing in answers the session's CSRF token and sets the session cookie:
// httpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure over HTTPS.
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import {
  endSession,
  type NewSession,
  SESSION_COOKIE,
  type SessionTimes,
  startSession,
} from '../../lib/auth/sessions.ts';
import { checkPassword, userNameSchema } from '../../lib/auth/users.ts';
import { logger } from '../../lib/log.ts';
import { requireAllowedHost } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { HttpError, parseOrThrow } from '../errors.ts';
import { type RateLimits, tooManyRequests } from '../rate-limit.ts';

export const signInBody = z.strictObject({
  name: userNameSchema,
  password: z.string().min(1).max(1024),
});

function sessionCookie(req: Request, value: string, expires: Date): string {
  const attributes = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  attributes.push(`Expires=${expires.toUTCString()}`);
  if (req.secure) attributes.push('Secure');
  return attributes.join('; ');
}

const whoami = (req: Request) => {
  const identity = req.identity!;
  return identity.session
    ? { kind: 'person', name: identity.name, role: identity.role, csrfToken: identity.session.csrfToken }
    : { kind: 'key', name: identity.name, role: identity.role, models: identity.models };
};

export function sessionRoutes({ store }: ApiContext, limits: RateLimits, times: SessionTimes): Router {
  const router = Router();

  router.post('/', async (req: Request, res: Response) => {
    requireAllowedHost(req);
    const address = req.ip ?? 'unknown';
    const body = parseOrThrow(signInBody, req.body ?? {});
    const waits = [limits.refused.waitFor(address), limits.signIn.waitFor(body.name)];
    if (Math.max(...waits) > 0) {
      throw tooManyRequests(
        Math.max(...waits),
        `too many failed sign-ins for "${body.name}" or from this address`,
      );
    }
    const person = await checkPassword(store, body.name, body.password);
    if (!person) {
      limits.refused.take(address);
      limits.signIn.take(body.name);
      logger.warn({ name: body.name, address }, 'failed sign-in');
      throw new HttpError(401, 'sign_in_failed', 'the name or the password is wrong');
    }
    const session: NewSession = await startSession(store, person, times);
    logger.info({ name: person.name, role: person.role }, 'signed in');
    res.set('Set-Cookie', sessionCookie(req, session.secret, session.expiresAt));
    res.set('Cache-Control', 'no-store');
    res.status(201).json({
      kind: 'person',
      name: person.name,
      role: person.role,
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
    });
  });

  router.get('/current', (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(whoami(req));
  });

  router.delete('/current', async (req, res) => {
    const session = req.identity!.session;
    if (!session) throw new HttpError(400, 'not_a_session', 'this request carries an API key, not a session');
    await endSession(store, session.id);
    res.set('Set-Cookie', sessionCookie(req, '', new Date(0)));
    res.status(204).end();
  });
  return router;
}
