// What only admins may set or read: the addresses Homeostat calls out to and the credentials it sends
// there. An `http` artifact names a server the API, gateway and worker call (with its headers, often a
// bearer token); an escalation webhook is called by the worker. Setting either decides where the server
// connects, so it needs the admin role (the egress policy, lib/net/egress.ts, bounds even admins); reading
// them back is for admins too, everyone else sees REDACTED in their place.
import type { Request } from 'express';
import type { KeyIdentity } from '../lib/auth/keys.ts';
import { HttpError } from './errors.ts';

export const REDACTED = '[redacted]';

export const isAdmin = (identity: KeyIdentity | undefined) => identity?.role === 'admin';

/** A 403 unless the caller is an admin; `what` says what needs it and why. */
export function requireAdmin(req: Request, what: string): void {
  if (isAdmin(req.identity)) return;
  const { name, role } = req.identity!;
  throw new HttpError(403, 'forbidden', `${what} needs the admin role; key "${name}" has ${role}`);
}

/** An artifact as the caller may read it: an http artifact's URL and headers only for admins. */
export function artifactFor(identity: KeyIdentity | undefined, artifact: unknown): unknown {
  if (isAdmin(identity) || (artifact as { kind?: unknown } | null)?.kind !== 'http') return artifact;
  const { url: _url, headers, ...rest } = artifact as { url: string; headers?: Record<string, string> };
  return {
    ...rest,
    url: REDACTED,
    ...(headers ? { headers: Object.fromEntries(Object.keys(headers).map((h) => [h, REDACTED])) } : {}),
  };
}

type PolicyDocument = Record<string, unknown>;

/** A field of a policy that names an address the worker calls out to: admins set and read it. */
export interface PolicyAddress {
  name: string;
  read(policy: PolicyDocument): unknown;
  write(policy: PolicyDocument, value: unknown): PolicyDocument;
}

export const POLICY_ADDRESSES: PolicyAddress[] = [
  {
    name: 'escalationWebhook',
    read: (p) => p.escalationWebhook,
    write: (p, value) => ({ ...p, escalationWebhook: value }),
  },
  {
    name: 'remedyWebhook.url',
    read: (p) => (p.remedyWebhook as { url?: unknown } | undefined)?.url,
    write: (p, value) => ({
      ...p,
      remedyWebhook: { ...(p.remedyWebhook as object | undefined), url: value },
    }),
  },
];

/** A policy document as the caller may read it: the addresses it names only for admins. */
export function policyFor<P>(identity: KeyIdentity | undefined, policy: P): P {
  if (isAdmin(identity) || policy === null || typeof policy !== 'object') return policy;
  let shown = policy as PolicyDocument;
  for (const address of POLICY_ADDRESSES)
    if (address.read(shown) !== undefined) shown = address.write(shown, REDACTED);
  return shown as P;
}
