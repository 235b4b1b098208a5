'use client';
import Link from 'next/link';
import { useId, useState } from 'react';
import { type Polled, usePolling } from '../lib/api';
import { formatAgo, formatDateTime, incidentHref } from '../lib/format';
import type { AgentResponse, PendingApproval } from '../lib/types';
import { agentPath, OperatorForm, operatorRequest } from './OperatorForm';

/**
 * A remedy the policy makes a human approve: what, why, until when, and what happens if nobody answers;
 * approve or reject it (workflow updates, audited). `onChanged` runs once the agent accepted the answer.
 */
export function ApprovalControls({
  model,
  approval,
  onChanged,
}: {
  model: string;
  approval: PendingApproval;
  /** Gets the confirmation: the caller shows it once the approval (and with it this form) is gone. */
  onChanged: (confirmation: string) => void;
}) {
  const answer = (verb: 'approve' | 'reject') => async (input: { reason: string }) => {
    await operatorRequest(agentPath(model, verb), { approvalId: approval.id, ...input });
    const confirmation =
      verb === 'approve'
        ? `Approved: the agent takes the ${approval.action} now.`
        : `Rejected: the agent will not ${approval.action}.`;
    onChanged(confirmation);
    return confirmation;
  };
  return (
    <div className="approval" data-testid="pending-approval" data-approval-id={approval.id}>
      <p style={{ marginTop: 0 }}>
        <b>Approval needed:</b> the agent wants to <b>{approval.action}</b> (rule <code>{approval.rule}</code>
        ) for <Link href={incidentHref(approval.incidentId)}>this incident</Link>.
      </p>
      <p className="small">{approval.reason}</p>
      <p className="muted small">
        Asked {formatAgo(new Date(approval.requestedAt).toISOString())}; if nobody answers by{' '}
        {formatDateTime(new Date(approval.expiresAt).toISOString())} the agent takes{' '}
        <b>{approval.onTimeout}</b>.
      </p>
      <div className="grid two">
        <OperatorForm
          label={`Approve ${approval.action}`}
          placeholder="e.g. checked the data"
          submit={answer('approve')}
        />
        <OperatorForm
          label={`Reject ${approval.action}`}
          secondary
          placeholder="e.g. known upstream outage"
          submit={answer('reject')}
        />
      </div>
    </div>
  );
}

/** Acknowledge an escalated incident: the operator has taken it over (a workflow update, audited). */
export function AcknowledgeControl({
  model,
  incidentId,
  onChanged,
}: {
  model: string;
  incidentId: string;
  /** Gets the confirmation: the caller shows it once the escalation (and with it this form) is gone. */
  onChanged: (confirmation: string) => void;
}) {
  return (
    <OperatorForm
      label="Acknowledge"
      help="The agent escalated this incident and holds the model in its safe state. Acknowledging records that an operator has taken it over."
      placeholder="e.g. on it, paging the data team"
      submit={async (input) => {
        await operatorRequest(agentPath(model, 'acknowledge'), { incidentId, ...input });
        const confirmation = 'Acknowledged: the incident is closed and in your hands.';
        onChanged(confirmation);
        return confirmation;
      }}
    />
  );
}

/**
 * The approval an agent waits for, from its live state (a workflow query), with the controls to answer
 * it; once answered, the confirmation (the approval, and these controls, are gone from the state by then).
 * `compact` folds the controls away (a fleet row); otherwise they stand in a panel of their own.
 */
export function AgentApproval({
  model,
  agent,
  incidentId,
  compact,
  onChanged,
}: {
  model: string;
  agent: Polled<AgentResponse>;
  /** Only an approval for this incident. */
  incidentId?: string;
  compact?: boolean;
  onChanged?: () => void;
}) {
  const id = useId();
  const [confirmation, setConfirmation] = useState<string | null>(null);
  const approval = agent.data?.agent.pendingApproval;
  if (!approval || (incidentId && approval.incidentId !== incidentId)) {
    return confirmation ? <Confirmation confirmation={confirmation} /> : null;
  }
  const controls = (
    <ApprovalControls
      model={model}
      approval={approval}
      onChanged={(text) => {
        setConfirmation(text);
        void agent.refresh();
        onChanged?.();
      }}
    />
  );
  if (compact) {
    return (
      <details className="approval-compact" data-testid="fleet-approval">
        <summary>
          <span className="badge" data-tone="warn">
            approval needed
          </span>{' '}
          {approval.action}
        </summary>
        {controls}
      </details>
    );
  }
  return (
    <section className="panel attention" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Waiting for an operator</h2>
      {controls}
    </section>
  );
}

/** AgentApproval for a page without the agent's state at hand: asks only while `active`. */
export function LiveApproval({ model, active }: { model: string; active: boolean }) {
  const agent = usePolling<AgentResponse>(active ? agentPath(model) : null, 5000);
  return active ? <AgentApproval model={model} agent={agent} compact /> : null;
}

/** What an operator's control did, shown once the thing it answered is gone from the page. */
export function Confirmation({ confirmation }: { confirmation: string }) {
  return (
    <p className="notice ok" role="status">
      {confirmation}
    </p>
  );
}
