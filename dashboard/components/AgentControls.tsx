'use client';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { apiFetch } from '../lib/api';
import type { AgentResponse, AgentState } from '../lib/types';

const OPERATOR_KEY = 'homeostat.operator';

/**
 * Pause or resume the model's agent (a workflow update). A reason is required; the operator's name is
 * remembered in this browser. On failure the API's own message is shown.
 */
export function AgentControls({
  model,
  paused,
  onChanged,
}: {
  model: string;
  paused: boolean;
  onChanged: (agent: AgentState) => void;
}) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [actor, setActor] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const verb = paused ? 'resume' : 'pause';

  useEffect(() => {
    setActor(window.localStorage.getItem(OPERATOR_KEY) ?? '');
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const { agent } = await apiFetch<AgentResponse>(
        `/v1/models/${encodeURIComponent(model)}/agent/${verb}`,
        {
          method: 'POST',
          body: JSON.stringify({ reason, actor }),
        },
      );
      window.localStorage.setItem(OPERATOR_KEY, actor);
      setReason('');
      setDone(agent.paused ? 'The agent is paused.' : 'The agent is running again.');
      onChanged(agent);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-describedby={`${id}-help`}>
      <p id={`${id}-help`} className="muted small" style={{ marginTop: 0 }}>
        {paused
          ? 'The agent is paused: it neither measures nor acts. Resuming runs a cycle at once.'
          : 'Pausing stops the agent’s loop (no measuring, no actions) until someone resumes it.'}
      </p>
      <div className="field">
        <label htmlFor={`${id}-reason`}>Reason</label>
        <input
          id={`${id}-reason`}
          name="reason"
          required
          maxLength={500}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          placeholder={paused ? 'e.g. upstream fix deployed' : 'e.g. investigating a feature pipeline'}
        />
      </div>
      <div className="field" style={{ marginTop: '0.5rem' }}>
        <label htmlFor={`${id}-actor`}>Operator</label>
        <input
          id={`${id}-actor`}
          name="actor"
          required
          maxLength={100}
          autoComplete="username"
          value={actor}
          onChange={(e) => setActor(e.target.value)}
        />
        <span className="hint">Recorded in the audit trail as human:&lt;operator&gt;.</span>
      </div>
      <div className="actions-row" style={{ marginTop: '0.75rem' }}>
        <button type="submit" disabled={busy} className={paused ? undefined : 'secondary'}>
          {busy ? 'Sending…' : paused ? 'Resume agent' : 'Pause agent'}
        </button>
      </div>
      {error && (
        <p className="notice error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p className="notice ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}
