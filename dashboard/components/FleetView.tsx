// The fleet page, rendered on the server for one page of the fleet: its state (filters, page size,
// cursor) is the URL's, so it survives a reload, can be shared, and its links and filter form work
// without JavaScript. With JavaScript the page renders itself again every few seconds (RefreshEvery).
import Form from 'next/form';
import Link from 'next/link';
import { FINDING_KINDS, HEALTHS } from '../../lib/domain';
import {
  FLEET_PAGE_SIZE,
  FLEET_PAGE_SIZES,
  type FleetQuery,
  fleetHref,
  pageHref,
  pageRange,
} from '../lib/fleet-query';
import { formatAgo, formatNumber, formatSigned, incidentHref, modelHref } from '../lib/format';
import type { ApiRead } from '../lib/server-api';
import type { FleetEntry, FleetResponse, Health } from '../lib/types';
import { LiveApproval } from './ApprovalControls';
import { ErrorNotice, HealthBadge } from './HealthBadge';
import { RefreshEvery } from './RefreshEvery';

/** Worst first: the counts put the models that need a human first. */
const HEALTH_RANK: Record<Health, number> = {
  escalated: 0,
  degraded: 1,
  recovering: 2,
  paused: 3,
  starting: 4,
  healthy: 5,
};
const HEALTHS_WORST_FIRST = [...HEALTHS].sort((a, b) => HEALTH_RANK[a] - HEALTH_RANK[b]);

const REFRESH_MS = 2000;

const delta = (e: FleetEntry) =>
  e.lastWindow?.accuracy != null && e.baseline.accuracy != null
    ? e.lastWindow.accuracy - e.baseline.accuracy
    : null;

const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

export function FleetView({ query, result }: { query: FleetQuery; result: ApiRead<FleetResponse> }) {
  const fleet = result.ok ? result.data : null;
  const filtered = Boolean(query.search || query.health || query.incidentKind);
  // Another filter value starts again at the first page: the cursor belonged to the old selection.
  const filterHref = (change: FleetQuery) => fleetHref({ ...query, ...change, cursor: undefined });
  const previous = fleet && pageHref(query, fleet.prevCursor);
  const next = fleet && pageHref(query, fleet.nextCursor);
  return (
    <>
      <RefreshEvery ms={REFRESH_MS} />
      <div className="page-head">
        <h1>Fleet</h1>
        <p className="muted small" aria-live="off" data-testid="fleet-range">
          {fleet
            ? `${pageRange(fleet)} of ${filtered ? `${fleet.matching.toLocaleString('en')} matching · ` : ''}${plural(fleet.total, 'model')}`
            : ''}
          {fleet ? ` · as of ${new Date(fleet.generatedAt).toISOString().slice(11, 19)} UTC` : ''} · refreshes
          every {REFRESH_MS / 1000} s
        </p>
      </div>
      {result.ok ? null : (
        <ErrorNotice
          what="the fleet"
          error={{
            message: [result.message, ...result.issues.map((i) => `${i.path}: ${i.message}`)].join('; '),
          }}
        />
      )}
      {fleet && (
        <ul className="summary-counts" aria-label="Models by health">
          {HEALTHS_WORST_FIRST.filter((h) => fleet.counts[h] > 0 || query.health === h).map((h) => (
            <li key={h}>
              <Link
                href={filterHref({ health: query.health === h ? undefined : h })}
                aria-current={query.health === h ? 'true' : undefined}
                title={query.health === h ? 'Show every health' : `Only the ${h} models`}
              >
                <HealthBadge health={h} /> <span className="small">× {fleet.counts[h]}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      <section className="panel" aria-labelledby="fleet-table">
        <h2 id="fleet-table" className="visually-hidden">
          Models
        </h2>
        <Form action="/" className="actions-row" key={fleetHref(query)} aria-label="Filter the fleet">
          <label htmlFor="fleet-search">Model name</label>
          <input
            id="fleet-search"
            name="search"
            type="search"
            defaultValue={query.search ?? ''}
            maxLength={64}
            placeholder="contains…"
          />
          <label htmlFor="fleet-health">Health</label>
          <select id="fleet-health" name="health" defaultValue={query.health ?? ''}>
            <option value="">any</option>
            {HEALTHS_WORST_FIRST.map((h) => (
              <option key={h} value={h}>
                {h} ({fleet?.counts[h] ?? 0})
              </option>
            ))}
          </select>
          <label htmlFor="fleet-incident">Open incident</label>
          <select id="fleet-incident" name="incidentKind" defaultValue={query.incidentKind ?? ''}>
            <option value="">any or none</option>
            {FINDING_KINDS.map((k) => (
              <option key={k} value={k}>
                {k} ({fleet?.incidentCounts[k] ?? 0})
              </option>
            ))}
          </select>
          <label htmlFor="fleet-limit">Per page</label>
          <select id="fleet-limit" name="limit" defaultValue={query.limit ?? FLEET_PAGE_SIZE}>
            {[...new Set([...FLEET_PAGE_SIZES, query.limit ?? FLEET_PAGE_SIZE])].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <button type="submit">Apply filters</button>
          {filtered ? <Link href="/">Clear</Link> : null}
        </Form>
        {fleet && fleet.models.length === 0 && fleet.matching > 0 ? (
          <p>
            No model on this page. <Link href={filterHref({})}>Back to the first page</Link>
          </p>
        ) : fleet && fleet.models.length === 0 && filtered ? (
          <p>No model matches these filters.</p>
        ) : fleet && fleet.models.length === 0 ? (
          <p>
            No model is registered yet. Register one with <code>POST /v1/models</code>; its agent starts at
            once.
          </p>
        ) : fleet ? (
          <div className="table-wrap">
            <table className="cards">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Health</th>
                  <th scope="col" className="num">
                    Accuracy (last window)
                  </th>
                  <th scope="col" className="num">
                    vs baseline
                  </th>
                  <th scope="col" className="num">
                    Traffic (last window)
                  </th>
                  <th scope="col">Open incident</th>
                  <th scope="col">Last action</th>
                  <th scope="col">Last decision</th>
                </tr>
              </thead>
              <tbody>
                {fleet.models.map((e) => (
                  <FleetRow key={e.model.name} entry={e} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {fleet && (previous || next) ? (
          <nav className="actions-row pager" aria-label="Pages of the fleet">
            {fleet.offset > 0 ? <Link href={filterHref({})}>First page</Link> : null}
            {previous ? (
              <Link href={previous} rel="prev">
                ← Previous {query.limit ?? FLEET_PAGE_SIZE}
              </Link>
            ) : null}
            <span className="muted small">
              {pageRange(fleet)} of {fleet.matching.toLocaleString('en')}
            </span>
            {next ? (
              <Link href={next} rel="next">
                Next {query.limit ?? FLEET_PAGE_SIZE} →
              </Link>
            ) : null}
          </nav>
        ) : null}
      </section>
      <p className="muted small">
        Models are listed by name. Health comes from the history store, by the agent’s own rule: <b>paused</b>{' '}
        when the last pause/resume was a pause, <b>escalated</b> when the open incident was escalated,{' '}
        <b>recovering</b> when an open incident’s metric is back or a remedy is being verified,{' '}
        <b>degraded</b> while any other incident is open (a fallback held while its cause persists protects
        users but is not a recovery), <b>healthy</b> otherwise. The counts by health follow the name and
        incident filters; those by incident kind follow the name and health filters.
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
            {/* Only a row the store says awaits approval asks its agent (a Temporal query) for it: with
                Temporal down, every other row renders without waiting on one. */}
            <LiveApproval model={e.model.name} active={e.openIncident.phase === 'awaiting_approval'} />
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
