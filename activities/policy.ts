// Versioned policies: every accepted policy document is a new PolicyVersion (numbered from 1 per model)
// and becomes Model.policy in the same transaction. A document is stored as given and parsed on every
// read, so defaults added to lib/policy later fill in on their own. Nothing invalid is ever stored.
import { ApplicationFailure } from '@temporalio/common';
import { sealAuditRow } from '../lib/audit/chain.ts';
import type { SavePolicyRequest, StoredPolicy } from '../lib/brain/contracts.ts';
import type { Store } from '../lib/db/client.ts';
import { isUniqueViolation } from '../lib/ingest/prediction-writer.ts';
import { type Policy, type PolicyIssue, parsePolicy } from '../lib/policy/policy.ts';
import type { PageArgs } from '../lib/registry/versions.ts';
import { findModelOrFail } from './incidents.ts';

const VERSION_ATTEMPTS = 5;

function invalidPolicy(message: string, issues: PolicyIssue[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'InvalidPolicy',
    message: `${message}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    nonRetryable: true,
    details: [issues],
  });
}

function parseStored(document: unknown, version: number): Policy {
  const parsed = parsePolicy(document);
  if (!parsed.ok) throw invalidPolicy(`stored policy version ${version} no longer validates`, parsed.issues);
  return parsed.policy;
}

/** The model's current policy: its latest version, or version 0 (the defaults) when none is stored. */
export async function readPolicy(store: Store, modelId: string): Promise<StoredPolicy> {
  const latest = await store.policyVersion.findFirst({ where: { modelId }, orderBy: { version: 'desc' } });
  if (!latest) return { version: 0, policy: parseStored(null, 0) };
  return { version: latest.version, policy: parseStored(latest.document, latest.version) };
}

/** Every stored version's who, why and when, newest first. */
export function policyHistory(store: Store, modelId: string, page: PageArgs) {
  return store.policyVersion.findMany({
    where: { modelId },
    orderBy: { version: 'desc' },
    select: { id: true, version: true, actor: true, reason: true, createdAt: true },
    ...page,
  });
}

export function createPolicyActivities(store: Store) {
  return {
    async loadPolicy(req: { modelName: string }): Promise<StoredPolicy> {
      const model = await findModelOrFail(store, req.modelName);
      return readPolicy(store, model.id);
    },

    /** Validates and stores the document as the next version, once per key; answers the stored version. */
    async savePolicy(req: SavePolicyRequest): Promise<StoredPolicy> {
      const parsed = parsePolicy(req.policy);
      if (!parsed.ok) throw invalidPolicy('the policy is invalid', parsed.issues);
      const model = await findModelOrFail(store, req.modelName);
      for (let attempt = 1; ; attempt++) {
        try {
          const version = await store.$transaction(async (tx) => {
            const done = await tx.policyVersion.findUnique({ where: { idempotencyKey: req.key } });
            if (done) return done.version;
            const last = await tx.policyVersion.findFirst({
              where: { modelId: model.id },
              orderBy: { version: 'desc' },
              select: { version: true },
            });
            const document = (req.policy ?? {}) as object;
            const stored = await tx.policyVersion.create({
              data: {
                modelId: model.id,
                version: (last?.version ?? 0) + 1,
                document,
                actor: req.actor,
                reason: req.reason,
                idempotencyKey: req.key,
              },
            });
            await sealAuditRow(tx, 'PolicyVersion', stored);
            await tx.model.update({ where: { id: model.id }, data: { policy: document } });
            return stored.version;
          });
          return { version, policy: parsed.policy };
        } catch (error) {
          // Another writer took the number (or, concurrently, this key): the next attempt sees its row.
          if (!isUniqueViolation(error) || attempt >= VERSION_ATTEMPTS) throw error;
        }
      }
    },
  };
}
