// Records what the agent and operators decided and did. Every write is keyed so that a retried
// activity (after a worker crash, say) leaves exactly one row.
import { Context } from '@temporalio/activity';
import { sealAuditRow } from '../lib/audit/chain.ts';
import type { Decision, Finding, PauseRequest, WindowSummary } from '../lib/brain/types.ts';
import type { Store } from '../lib/db/client.ts';
import { logger } from '../lib/log.ts';
import { modelNotFound } from './errors.ts';

export interface CycleRecord {
  modelName: string;
  cycle: number;
  idempotencyKey: string;
  window: WindowSummary;
  findings: Finding[];
  decision: Decision;
  openIncidentId: string | null;
  /** Set by the workflow (deterministically) when this decision opens an incident. */
  newIncidentId: string | null;
}

export interface OperatorActionRecord {
  modelName: string;
  type: 'pause' | 'resume';
  request: PauseRequest;
  cycle: number;
  key: string;
}

function workflowIds() {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('audit activities run only on behalf of a workflow');
  return { workflowId: execution.workflowId, runId: execution.runId };
}

export function createAuditActivities(store: Store) {
  async function modelId(name: string): Promise<string> {
    const model = await store.model.findUnique({ where: { name }, select: { id: true } });
    if (!model) throw modelNotFound(name);
    return model.id;
  }

  return {
    /** Stores a cycle's findings, decision, incident change and (for actions) the audit row, atomically. */
    async recordCycle(record: CycleRecord): Promise<void> {
      const id = await modelId(record.modelName);
      const { workflowId, runId } = workflowIds();
      const { decision } = record;
      const incidentId = record.newIncidentId ?? record.openIncidentId;
      await store.$transaction(async (tx) => {
        for (const finding of record.findings) {
          await tx.finding.upsert({
            where: {
              modelId_windowSeq_kind: { modelId: id, windowSeq: record.window.seq, kind: finding.kind },
            },
            create: {
              modelId: id,
              windowSeq: record.window.seq,
              kind: finding.kind,
              severity: finding.severity,
              state: finding.state,
              evidence: { summary: finding.summary, ...finding.evidence },
            },
            update: {},
          });
        }
        if (decision.incident && 'open' in decision.incident && record.newIncidentId) {
          await tx.incident.upsert({
            where: { id: record.newIncidentId },
            create: {
              id: record.newIncidentId,
              modelId: id,
              status: 'open',
              kind: decision.incident.open.kind,
              severity: decision.incident.open.severity,
              summary: decision.incident.open.summary,
              evidence: { window: record.window as object, findings: record.findings as object[] },
            },
            update: {},
          });
        }
        if (decision.incident && 'close' in decision.incident && record.openIncidentId) {
          await tx.incident.updateMany({
            where: { id: record.openIncidentId, closedAt: null },
            data: { status: decision.incident.close, closedAt: new Date() },
          });
        }
        const stored = await tx.decision.upsert({
          where: { idempotencyKey: record.idempotencyKey },
          create: {
            idempotencyKey: record.idempotencyKey,
            modelId: id,
            cycle: record.cycle,
            action: decision.action,
            rule: decision.rule,
            reason: decision.reason,
            evidence: { window: record.window as object, findings: record.findings as object[] },
            alternatives: decision.alternatives as object[],
            incidentId,
            workflowId,
            runId,
          },
          update: {},
        });
        // An alert is done once recorded; a remedy is audited by the workflow that carries it out, with
        // its own status and the revisions it changed.
        if (decision.action === 'alert') {
          const alert = await tx.action.upsert({
            where: { idempotencyKey: `${record.idempotencyKey}:action` },
            create: {
              idempotencyKey: `${record.idempotencyKey}:action`,
              modelId: id,
              type: decision.action,
              actor: 'agent',
              status: 'succeeded',
              reason: decision.reason,
              incidentId,
              decisionId: stored.id,
              detail: { cycle: record.cycle, rule: decision.rule },
              workflowId,
              runId,
              completedAt: new Date(),
            },
            update: {},
          });
          await sealAuditRow(tx, 'Action', alert);
        }
      });
      if (decision.action !== 'none') {
        logger.warn(
          { model: record.modelName, action: decision.action, rule: decision.rule },
          decision.reason,
        );
      }
    },

    /**
     * The clock the store stamps rows with. Workflow time can run ahead of it (a time-skipping test
     * server, a replay), so a workflow that asks "rows since now" takes its "now" from here.
     */
    async storeTime(): Promise<string> {
      return new Date().toISOString();
    },

    /** Audits an operator's pause or resume, applied by the workflow update that calls this. */
    async recordOperatorAction(record: OperatorActionRecord): Promise<void> {
      const id = await modelId(record.modelName);
      const { workflowId, runId } = workflowIds();
      await store.$transaction(async (tx) => {
        const action = await tx.action.upsert({
          where: { idempotencyKey: record.key },
          create: {
            idempotencyKey: record.key,
            modelId: id,
            type: record.type,
            actor: `human:${record.request.actor}`,
            status: 'succeeded',
            reason: record.request.reason,
            detail: { cycle: record.cycle, ...(record.request.via ? { via: record.request.via } : {}) },
            workflowId,
            runId,
            completedAt: new Date(),
          },
          update: {},
        });
        await sealAuditRow(tx, 'Action', action);
      });
    },
  };
}
