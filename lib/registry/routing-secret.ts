// The key of the canary split (lib/registry/routing.ts routingShare). Without it a client could compute
// which of its prediction ids reach the canary and choose to hit or avoid it. It comes from
// HOMEOSTAT_ROUTING_SECRET when set; otherwise the first process that needs it generates one and stores
// it in the database (ServerSecret "canary-routing"), where every API process and every restart finds
// the same key, so a retried request keeps its version.
import { randomBytes } from 'node:crypto';
import type { Store } from '../db/client.ts';
import { isUniqueViolation } from '../ingest/prediction-writer.ts';

/** The ServerSecret row that holds the key when no HOMEOSTAT_ROUTING_SECRET is configured. */
export const ROUTING_SECRET_NAME = 'canary-routing';
/** A shorter configured secret is refused: it could be guessed from observed routes. */
export const MIN_ROUTING_SECRET_LENGTH = 32;

export async function loadRoutingSecret(
  store: Store,
  configured = process.env.HOMEOSTAT_ROUTING_SECRET,
): Promise<string> {
  if (configured !== undefined && configured !== '') {
    if (configured.length < MIN_ROUTING_SECRET_LENGTH) {
      throw new Error(`HOMEOSTAT_ROUTING_SECRET must be at least ${MIN_ROUTING_SECRET_LENGTH} characters`);
    }
    return configured;
  }
  const stored = await store.serverSecret.findUnique({ where: { name: ROUTING_SECRET_NAME } });
  if (stored) return stored.value;
  try {
    const created = await store.serverSecret.create({
      data: { name: ROUTING_SECRET_NAME, value: randomBytes(32).toString('base64url') },
    });
    return created.value;
  } catch (error) {
    // Another process stored one first: use theirs.
    if (!isUniqueViolation(error)) throw error;
    return (await store.serverSecret.findUniqueOrThrow({ where: { name: ROUTING_SECRET_NAME } })).value;
  }
}
