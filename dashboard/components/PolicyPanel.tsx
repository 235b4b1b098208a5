'use client';
import { useId, useState } from 'react';
import { usePolling } from '../lib/api';
import { formatDateTime } from '../lib/format';
import type { AgentState, Policy, PolicyResponse } from '../lib/types';
import { ErrorNotice } from './HealthBadge';
import { agentPath, OperatorForm, operatorRequest } from './OperatorForm';

/** What each error-rate mode (policy detection.errorRateMode) trades, in an operator's words. */
const ERROR_RATE_MODE_TEXT: Record<Policy['detection']['errorRateMode'], string> = {
  fast: 'fast: finds a rise of the error rate sooner, at more false alarms',
  conservative: 'conservative: fewer false alarms than ADWIN, finds a rise later',
};

/** The ladders, approvals and error-rate mode, the parts of a policy an operator reads first. */
function PolicySummary({ policy }: { policy: Policy }) {
  const approvals = Object.entries(policy.approvals ?? {}).filter(([, a]) => a?.mode === 'approve');
  return (
    <dl className="evidence small policy-summary">
      {Object.entries(policy.ladders).map(([kind, ladder]) => (
        <div key={kind}>
          <dt>{kind}</dt>
          <dd>{ladder.join(' → ')}</dd>
        </div>
      ))}
      <div>
        <dt>error-rate alarms</dt>
        {/* Policies stored before the mode existed are fast. */}
        <dd>{ERROR_RATE_MODE_TEXT[policy.detection?.errorRateMode ?? 'fast']}</dd>
      </div>
      <div>
        <dt>needs approval</dt>
        <dd>
          {approvals.length === 0
            ? 'nothing: the agent acts on its own'
            : approvals
                .map(([action, a]) => `${action} (else ${a?.onTimeout} after ${a?.timeout})`)
                .join(', ')}
        </dd>
      </div>
    </dl>
  );
}

/**
 * The model's active policy (GET /policy; the agent's own copy while that is not available) and an editor:
 * the new document goes to the agent, which validates it and applies all of it or none of it.
 */
export function PolicyPanel({
  model,
  agentPolicy,
  onChanged,
}: {
  model: string;
  agentPolicy: AgentState['policy'] | undefined;
  onChanged: () => void;
}) {
  const id = useId();
  const stored = usePolling<PolicyResponse>(`/v1/models/${encodeURIComponent(model)}/policy`, 5000);
  const active = stored.data
    ? { version: stored.data.version, policy: stored.data.policy, from: 'store' }
    : agentPolicy
      ? { version: agentPolicy.version, policy: agentPolicy.document, from: 'agent' }
      : null;
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? (active ? JSON.stringify(active.policy, null, 2) : '');

  return (
    <div className="stack">
      {active ? (
        <>
          <p className="small" style={{ marginTop: 0 }} data-testid="policy-version">
            Policy version <b>{active.version}</b>
            {active.version === 0 ? ' (the defaults: none stored)' : ''}
            {active.from === 'agent' ? ' · as the agent reports it' : ''}
          </p>
          <PolicySummary policy={active.policy} />
          <details>
            <summary>The whole policy</summary>
            <pre className="policy-json" data-testid="policy-json">
              {JSON.stringify(active.policy, null, 2)}
            </pre>
          </details>
          {stored.data?.history && stored.data.history.length > 0 && (
            <details>
              <summary>History ({stored.data.history.length} stored)</summary>
              <ul className="small">
                {stored.data.history.map((h) => (
                  <li key={h.version}>
                    v{h.version} · {formatDateTime(h.createdAt)} · {h.actor ?? '–'}: {h.reason ?? ''}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </>
      ) : stored.error ? (
        <ErrorNotice error={stored.error} what="the policy" />
      ) : (
        <p className="muted">Loading…</p>
      )}
      <details>
        <summary>Edit the policy</summary>
        <OperatorForm
          label="Apply policy"
          help="The agent validates the whole document and applies all of it or nothing; a rejected document is shown with every problem."
          placeholder="e.g. require approval before retraining"
          submit={async ({ reason }) => {
            let policy: unknown;
            try {
              policy = JSON.parse(text);
            } catch (err) {
              throw new Error(`The policy is not valid JSON: ${(err as Error).message}`);
            }
            await operatorRequest(agentPath(model, 'policy'), { policy, reason }, 'PUT');
            setDraft(null);
            await stored.refresh();
            onChanged();
            return 'The agent applied the new policy.';
          }}
        >
          <div className="field" style={{ marginBottom: '0.5rem' }}>
            <label htmlFor={`${id}-policy`}>Policy (JSON)</label>
            <textarea
              id={`${id}-policy`}
              className="mono policy-editor"
              rows={14}
              spellCheck={false}
              value={text}
              onChange={(e) => setDraft(e.target.value)}
            />
          </div>
        </OperatorForm>
      </details>
    </div>
  );
}
