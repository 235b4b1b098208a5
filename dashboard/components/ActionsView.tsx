'use client';
import Link from 'next/link';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { ACTION_TYPES } from '../../lib/domain';
import { apiFetchAll, usePolling } from '../lib/api';
import { formatDateTime, incidentHref, modelHref } from '../lib/format';
import type { ActionsResponse, ActionView, ModelsResponse } from '../lib/types';
import { ErrorNotice, StatusBadge } from './HealthBadge';
import { agentPath, OperatorForm, operatorRequest } from './OperatorForm';

/** Action types the agent decides (lib/domain.ts) and the ones operators take. */
const KNOWN_TYPES = [...ACTION_TYPES.filter((t) => t !== 'none'), 'pause', 'resume'];
const EXPORT_LIMIT = 10_000;

interface Filters {
  model: string;
  actor: string;
  type: string;
  /** Values of datetime-local inputs: local time, no zone. */
  from: string;
  to: string;
}

const EMPTY: Filters = { model: '', actor: '', type: '', from: '', to: '' };

/** The API's query string for the filters; local times become instants. */
function queryOf(filters: Filters): URLSearchParams {
  const query = new URLSearchParams();
  if (filters.model) query.set('model', filters.model);
  if (filters.actor.trim()) query.set('actor', filters.actor.trim());
  if (filters.type) query.set('type', filters.type);
  for (const key of ['from', 'to'] as const) {
    const instant = filters[key] ? new Date(filters[key]) : null;
    if (instant && !Number.isNaN(instant.getTime())) query.set(key, instant.toISOString());
  }
  return query;
}

/** Every model for the filter, page after page. */
const readModels = (path: string, init: RequestInit) => apiFetchAll<ModelsResponse>(path, 'models', init);

export function ActionsView() {
  const id = useId();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const query = useMemo(() => queryOf(applied), [applied]);
  const path = `/v1/actions${query.size ? `?${query}` : ''}`;
  const { data, error, updatedAt, refresh } = usePolling<ActionsResponse>(path, 3000);
  const models = usePolling<ModelsResponse>('/v1/models', 10_000, readModels);

  const exportHref = (format: 'csv' | 'json') => {
    const q = new URLSearchParams(query);
    q.set('format', format);
    q.set('limit', String(EXPORT_LIMIT));
    return `/api/v1/actions?${q}`;
  };
  const set = (key: keyof Filters) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setApplied(draft);
  };
  const reset = () => {
    setDraft(EMPTY);
    setApplied(EMPTY);
  };

  return (
    <>
      <div className="page-head">
        <h1>Audit trail</h1>
        <p className="muted small">
          Every action the agent and operators took, newest first
          {updatedAt ? ` · updated ${new Date(updatedAt).toLocaleTimeString()}` : ''}
        </p>
      </div>
      <section className="panel" aria-labelledby={`${id}-filters`}>
        <h2 id={`${id}-filters`}>Filters</h2>
        <form className="inline" onSubmit={apply}>
          <div className="field">
            <label htmlFor={`${id}-model`}>Model</label>
            <select id={`${id}-model`} value={draft.model} onChange={set('model')}>
              <option value="">All models</option>
              {models.data?.models.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-actor`}>Actor</label>
            <input
              id={`${id}-actor`}
              value={draft.actor}
              onChange={set('actor')}
              placeholder="agent or human:*"
              aria-describedby={`${id}-actor-hint`}
            />
            <span id={`${id}-actor-hint`} className="hint">
              Exact, or a prefix ending in *
            </span>
          </div>
          <div className="field">
            <label htmlFor={`${id}-type`}>Type</label>
            <select id={`${id}-type`} value={draft.type} onChange={set('type')}>
              <option value="">All types</option>
              {KNOWN_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-from`}>From</label>
            <input
              id={`${id}-from`}
              type="datetime-local"
              step="1"
              value={draft.from}
              onChange={set('from')}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-to`}>To</label>
            <input id={`${id}-to`} type="datetime-local" step="1" value={draft.to} onChange={set('to')} />
          </div>
          <div className="actions-row">
            <button type="submit">Apply filters</button>
            <button type="button" className="secondary" onClick={reset}>
              Reset
            </button>
          </div>
        </form>
      </section>

      <section className="panel" aria-labelledby={`${id}-results`}>
        <div className="page-head" style={{ marginBottom: '0.5rem' }}>
          <h2 id={`${id}-results`} style={{ margin: 0 }}>
            {data
              ? `${data.actions.length}${data.truncated ? '+' : ''} action${data.actions.length === 1 ? '' : 's'}`
              : 'Actions'}
          </h2>
          <div className="actions-row">
            <a className="button secondary" href={exportHref('csv')} download>
              Export CSV
            </a>
            <a className="button secondary" href={exportHref('json')} download="homeostat-actions.json">
              Export JSON
            </a>
          </div>
        </div>
        <ErrorNotice error={error} what="the audit trail" />
        {data?.truncated && (
          <p className="muted small">Only the newest {data.limit} are shown; narrow the filters or export.</p>
        )}
        {data && data.actions.length === 0 && <p className="muted">No action matches these filters.</p>}
        {data && data.actions.length > 0 && (
          <div className="table-wrap">
            <table className="cards">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Model</th>
                  <th scope="col">Type</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Status</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Incident</th>
                  <th scope="col">Undo</th>
                </tr>
              </thead>
              <tbody>
                {data.actions.map((a) => (
                  <tr key={a.id} data-action-type={a.type}>
                    <td data-label="Time">{formatDateTime(a.createdAt)}</td>
                    <td data-label="Model">
                      <Link href={modelHref(a.model)}>{a.model}</Link>
                    </td>
                    <td data-label="Type">{a.type}</td>
                    <td data-label="Actor">{a.actor}</td>
                    <td data-label="Status">
                      <StatusBadge status={a.status} />
                    </td>
                    <td data-label="Reason">{a.reason}</td>
                    <td data-label="Incident">
                      {a.incidentId ? <Link href={incidentHref(a.incidentId)}>open</Link> : '–'}
                    </td>
                    <td data-label="Undo">
                      {a.beforeRevisionId ? (
                        <RevertControl action={a} onChanged={() => void refresh()} />
                      ) : (
                        '–'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

/**
 * Undo an action that changed the deployment: the agent restores the revision from before it (a new
 * revision, audited as an action of its own, which then shows at the top of this list).
 */
function RevertControl({ action, onChanged }: { action: ActionView; onChanged: () => void }) {
  return (
    <details className="row-control">
      <summary>Revert</summary>
      <OperatorForm
        label={`Revert this ${action.type}`}
        secondary
        placeholder="e.g. the retrained version is worse"
        submit={async (input) => {
          await operatorRequest(agentPath(action.model, 'revert'), { actionId: action.id, ...input });
          onChanged();
          return `Reverted: the deployment from before this ${action.type} serves again.`;
        }}
      />
    </details>
  );
}
