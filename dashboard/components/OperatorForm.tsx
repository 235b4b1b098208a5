'use client';
import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { ApiError, type ApiIssue, apiFetch, signInHref } from '../lib/api';
import { mayUse, useCaller } from '../lib/session';

/** Sends an operator's request to the API (JSON body); the API's refusal is thrown as an ApiError. */
export function operatorRequest<T>(path: string, body: object, method: 'POST' | 'PUT' = 'POST'): Promise<T> {
  return apiFetch<T>(path, { method, body: JSON.stringify(body) });
}

/** The agent's routes: its state, or an operator verb (pause, approve, acknowledge, policy…). */
export const agentPath = (model: string, verb?: string) =>
  `/v1/models/${encodeURIComponent(model)}/agent${verb ? `/${verb}` : ''}`;

/**
 * Every operator control: a reason (required, audited), a submit button, and the API's answer — its
 * message and field issues on a refusal, the control's own confirmation on success. The audit trail
 * names the person signed in. A person whose role does not grant operator, or nobody, sees the control
 * disabled with the reason why. `submit` gets the reason and returns what to confirm; `children` adds
 * fields above the reason (a policy document).
 */
export function OperatorForm({
  label,
  busyLabel = 'Sending…',
  help,
  placeholder,
  secondary,
  submit,
  children,
}: {
  label: string;
  busyLabel?: string;
  help?: ReactNode;
  placeholder?: string;
  secondary?: boolean;
  submit: (input: { reason: string }) => Promise<string>;
  children?: ReactNode;
}) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; issues: ApiIssue[] } | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const caller = useCaller();
  const allowed = mayUse(caller, 'operator');

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const confirmation = await submit({ reason });
      setReason('');
      setDone(confirmation);
    } catch (err) {
      setError(
        err instanceof ApiError
          ? { message: err.summary, issues: err.issues }
          : { message: (err as Error).message, issues: [] },
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="operator-form" aria-describedby={help ? `${id}-help` : undefined}>
      {help && (
        <p id={`${id}-help`} className="muted small" style={{ marginTop: 0 }}>
          {help}
        </p>
      )}
      <fieldset disabled={!allowed} className="plain">
        {children}
        <div className="field">
          <label htmlFor={`${id}-reason`}>Reason</label>
          <input
            id={`${id}-reason`}
            name="reason"
            required
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            placeholder={placeholder}
          />
        </div>
        <div className="actions-row" style={{ marginTop: '0.75rem' }}>
          <button type="submit" disabled={busy} className={secondary ? 'secondary' : undefined}>
            {busy ? busyLabel : label}
          </button>
        </div>
      </fieldset>
      {caller !== undefined && !allowed && (
        <NotAllowed role={caller?.kind === 'person' ? caller.role : null} />
      )}
      {error && (
        <div className="notice error" role="alert">
          {error.message}
          {error.issues.length > 0 && (
            <ul className="issues">
              {error.issues.map((i) => (
                <li key={`${i.path}-${i.message}`}>
                  <code>{i.path}</code>: {i.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {done && (
        <p className="notice ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

/** Why a control is disabled: the person's role does not grant it, or nobody is signed in. */
function NotAllowed({ role }: { role: string | null }) {
  return (
    <p className="notice small" data-testid="not-allowed">
      {role ? (
        <>Your role ({role}) may not do this: it needs operator.</>
      ) : (
        <>
          <a href={signInHref()}>Sign in</a> as an operator to do this.
        </>
      )}
    </p>
  );
}
