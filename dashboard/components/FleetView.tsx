'use client';
import Link from 'next/link';
import { useMemo, useState } from 'react';
import { apiFetchAll, usePolling } from '../lib/api';
import { formatAgo, formatNumber, formatSigned, incidentHref, modelHref } from '../lib/format';
import type { FleetEntry, FleetResponse, Health } from '../lib/types';
import { LiveApproval } from './ApprovalControls';
import { ErrorNotice, HealthBadge } from './HealthBadge';

/** Worst first: the default order puts the models that need a human at the top. */
const HEALTH_RANK: Record<Health, number> = {
  escalated: 0,
  degraded: 1,
  recovering: 2,
  paused: 3,
  starting: 4,
  healthy: 5,
};

const delta = (e: FleetEntry) =>
  e.lastWindow?.accuracy != null && e.baseline.accuracy != null
    ? e.lastWindow.accuracy - e.baseline.accuracy
    : null;

type SortKey = 'name' | 'health' | 'accuracy' | 'delta' | 'traffic' | 'incident' | 'action';

const COLUMNS: {
  key: SortKey;
  label: string;
  numeric?: boolean;
  value: (e: FleetEntry) => string | number | null;
}[] = [
  { key: 'name', label: 'Model', value: (e) => e.model.name },
  { key: 'health', label: 'Health', value: (e) => HEALTH_RANK[e.health] },
  {
    key: 'accuracy',
    label: 'Accuracy (last window)',
    numeric: true,
    value: (e) => e.lastWindow?.accuracy ?? null,
  },
  { key: 'delta', label: 'vs baseline', numeric: true, value: delta },
  {
    key: 'traffic',
    label: 'Traffic (last window)',
    numeric: true,
    value: (e) => e.lastWindow?.count ?? null,
  },
  { key: 'incident', label: 'Open incident', value: (e) => e.openIncident?.openedAt ?? null },
  { key: 'action', label: 'Last action', value: (e) => e.lastAction?.createdAt ?? null },
];

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1; // missing values last, whatever the direction
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** Every model that matches the filters, page after page: a fleet larger than a page is shown whole. */
const readFleet = (path: string, init: RequestInit) => apiFetchAll<FleetResponse>(path, 'models', init);

/** The fleet's path with the filters, which the API applies (and pages) over the whole fleet. */
function fleetPath(health: Health | '', search: string): string {
  const query = new URLSearchParams();
  if (health) query.set('health', health);
  if (search.trim()) query.set('search', search.trim());
  const text = query.toString();
  return text ? `/v1/fleet?${text}` : '/v1/fleet';
}

export function FleetView() {
  const [health, setHealth] = useState<Health | ''>('');
  const [search, setSearch] = useState('');
  const { data, error, updatedAt } = usePolling<FleetResponse>(fleetPath(health, search), 2000, readFleet);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'health', dir: 1 });

  const rows = useMemo(() => {
    const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0]!;
    return [...(data?.models ?? [])].sort((a, b) => {
      const va = column.value(a);
      const vb = column.value(b);
      if (va === null || vb === null) return compare(va, vb) || a.model.name.localeCompare(b.model.name);
      return sort.dir * compare(va, vb) || a.model.name.localeCompare(b.model.name);
    });
  }, [data, sort]);

  // Counted by the API over the whole fleet, whatever the filters.
  const counts = useMemo(
    () =>
      (Object.entries(data?.counts ?? {}) as [Health, number][])
        .filter(([, n]) => n > 0)
        .sort((a, b) => HEALTH_RANK[a[0]] - HEALTH_RANK[b[0]]),
    [data],
  );
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  const filtered = health !== '' || search.trim() !== '';

  const toggle = (key: SortKey) =>
    setSort((s) => (s.key === key ? { key, dir: s.dir === 1 ? -1 : 1 } : { key, dir: 1 }));

  return (
    <>
      <div className="page-head">
        <h1>Fleet</h1>
        <p className="muted small" aria-live="off">
          {data
            ? filtered
              ? `${data.matching} of ${total} model${total === 1 ? '' : 's'}`
              : `${total} model${total === 1 ? '' : 's'}`
            : 'Loading…'}
          {updatedAt ? ` · updated ${new Date(updatedAt).toLocaleTimeString()}` : ''} · refreshes every 2 s
        </p>
      </div>
      <ErrorNotice error={error} what="the fleet" />
      {counts.length > 0 && (
        <ul className="summary-counts" aria-label="Models by health">
          {counts.map(([health, n]) => (
            <li key={health}>
              <HealthBadge health={health} /> <span className="small">× {n}</span>
            </li>
          ))}
        </ul>
      )}
      <section className="panel" aria-labelledby="fleet-table">
        <h2 id="fleet-table" className="visually-hidden">
          Models
        </h2>
        <div className="actions-row">
          <label htmlFor="fleet-health">Health</label>
          <select id="fleet-health" value={health} onChange={(e) => setHealth(e.target.value as Health | '')}>
            <option value="">any</option>
            {(Object.keys(HEALTH_RANK) as Health[]).map((h) => (
              <option key={h} value={h}>
                {h} ({data?.counts[h] ?? 0})
              </option>
            ))}
          </select>
          <label htmlFor="fleet-search">Model name</label>
          <input
            id="fleet-search"
            type="search"
            value={search}
            maxLength={64}
            placeholder="contains…"
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <div className="narrow-sort actions-row">
          <label htmlFor="fleet-sort">Sort by</label>
          <select
            id="fleet-sort"
            value={sort.key}
            onChange={(e) => setSort((s) => ({ ...s, key: e.target.value as SortKey }))}
          >
            {COLUMNS.map((c) => (
              <option key={c.key} value={c.key}>
                {c.label}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="secondary"
            onClick={() => setSort((s) => ({ ...s, dir: s.dir === 1 ? -1 : 1 }))}
          >
            {sort.dir === 1 ? 'Ascending' : 'Descending'}
          </button>
        </div>
        {data && data.models.length === 0 && filtered ? (
          <p>No model matches these filters.</p>
        ) : data && data.models.length === 0 ? (
          <p>
            No model is registered yet. Register one with <code>POST /v1/models</code>; its agent starts at
            once.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="cards">
              <thead>
                <tr>
                  {COLUMNS.map((c) => (
                    <th
                      key={c.key}
                      scope="col"
                      className={c.numeric ? 'num' : undefined}
                      aria-sort={
                        sort.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined
                      }
                    >
                      <button
                        type="button"
                        className="sort-button"
                        data-active={sort.key === c.key}
                        onClick={() => toggle(c.key)}
                      >
                        {c.label}
                        <span aria-hidden="true">
                          {sort.key === c.key ? (sort.dir === 1 ? '▲' : '▼') : '↕'}
                        </span>
                      </button>
                    </th>
                  ))}
                  <th scope="col">Last decision</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <FleetRow key={e.model.name} entry={e} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <p className="muted small">
        Health comes from the history store, by the agent’s own rule: <b>paused</b> when the last pause/resume
        was a pause, <b>escalated</b> when the open incident was escalated, <b>recovering</b> when an open
        incident’s metric is back or a remedy is being verified, <b>degraded</b> while any other incident is
        open (a fallback held while its cause persists protects users but is not a recovery), <b>healthy</b>{' '}
        otherwise.
      </p>
    </>
  );
}

function FleetRow({ entry: e }: { entry: FleetEntry }) {
  const d = delta(e);
  return (
    <tr data-model={e.model.name}>
      <th scope="row">
        <Link href={modelHref(e.model.name)}>{e.model.name}</Link>
        <div className="muted small">{e.model.task}</div>
      </th>
      <td data-label="Health">
        <HealthBadge health={e.health} reason={e.healthReason} />
      </td>
      <td className="num" data-label="Accuracy">
        {formatNumber(e.lastWindow?.accuracy)}
      </td>
      <td className="num" data-label="vs baseline">
        <span className={d !== null && d < 0 ? 'delta-bad' : undefined}>{formatSigned(d)}</span>
        <div className="muted small">
          baseline {formatNumber(e.baseline.accuracy)}
          {!e.baseline.ready && e.baseline.windows > 0 ? ' (forming)' : ''}
        </div>
      </td>
      <td className="num" data-label="Traffic">
        {e.lastWindow ? e.lastWindow.count : '–'}
        {e.lastWindow ? <div className="muted small">{e.lastWindow.labelled} labelled</div> : null}
      </td>
      <td data-label="Open incident">
        {e.openIncident ? (
          <>
            <Link href={incidentHref(e.openIncident.id)}>{e.openIncident.kind}</Link>
            <div className="muted small">
              {e.openIncident.status} · {formatAgo(e.openIncident.openedAt)}
            </div>
            <LiveApproval model={e.model.name} active />
          </>
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td data-label="Last action">
        {e.lastAction ? (
          <>
            {e.lastAction.type} <span className="muted small">by {e.lastAction.actor}</span>
            <div className="muted small">{formatAgo(e.lastAction.createdAt)}</div>
          </>
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td data-label="Last decision">
        {e.lastDecision ? (
          <>
            <code>{e.lastDecision.rule}</code>
            <div className="muted small">cycle {e.lastDecision.cycle}</div>
          </>
        ) : (
          <span className="muted">–</span>
        )}
      </td>
    </tr>
  );
}
