'use client';
import Link from 'next/link';
import { useCallback, useState } from 'react';
import { factsOfAgent, statusFrom } from '../../lib/brain/status';
import { usePolling } from '../lib/api';
import {
  formatAgo,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatSigned,
  incidentHref,
  temporalWorkflowUrl,
} from '../lib/format';
import type { TemporalUi } from '../lib/server-config';
import type {
  ActionsResponse,
  AgentResponse,
  AgentState,
  DecisionsResponse,
  DriftResponse,
  FleetModelResponse,
  IncidentsResponse,
  RevisionsResponse,
  WindowsResponse,
} from '../lib/types';
import { AgentControls } from './AgentControls';
import { AcknowledgeControl, AgentApproval, Confirmation } from './ApprovalControls';
import { DecisionsTable } from './DecisionsTable';
import { DeploymentPanel } from './DeploymentPanel';
import { DriftHeatmap } from './DriftHeatmap';
import { ErrorNotice, HealthBadge, StatusBadge } from './HealthBadge';
import { ModelCharts } from './ModelCharts';
import { PolicyPanel } from './PolicyPanel';
import { SegmentsPanel } from './SegmentsPanel';
import { VersionsPanel } from './VersionsPanel';

const WINDOWS_SHOWN = 120;
const DRIFT_WINDOWS = 40;

export function ModelView({ name, temporal }: { name: string; temporal: TemporalUi }) {
  const base = `/v1/models/${encodeURIComponent(name)}`;
  const entry = usePolling<FleetModelResponse>(`/v1/fleet/${encodeURIComponent(name)}`, 2000);
  // An unknown model: only the entry keeps asking (the page recovers if the model gets registered).
  const known = (path: string) => (entry.error?.status === 404 ? null : path);
  const windows = usePolling<WindowsResponse>(known(`${base}/windows?limit=${WINDOWS_SHOWN}`), 2000);
  const decisions = usePolling<DecisionsResponse>(known(`${base}/decisions?limit=20`), 2000);
  const incidents = usePolling<IncidentsResponse>(known(`${base}/incidents?limit=20`), 4000);
  const actions = usePolling<ActionsResponse>(
    known(`/v1/actions?model=${encodeURIComponent(name)}&limit=200`),
    4000,
  );
  // The live agent state is a workflow query answered by a worker: asked less often than the store.
  const agent = usePolling<AgentResponse>(known(`${base}/agent`), 5000);
  const drift = usePolling<DriftResponse>(known(`${base}/drift?windows=${DRIFT_WINDOWS}`), 4000);
  // The deployment is the newest revision; the versions panel marks what serves where.
  const revisions = usePolling<RevisionsResponse>(known(`${base}/revisions?limit=20`), 3000);
  // The answer of the last pause/resume, shown until the next poll of the live agent state confirms it.
  const [justChanged, setJustChanged] = useState<{ state: AgentState; at: number } | null>(null);
  const [acknowledged, setAcknowledged] = useState<{ incidentId: string; confirmation: string } | null>(null);

  // After any operator control: ask again for everything it may have changed, at once.
  const refreshAll = useCallback(() => {
    void Promise.all([
      entry.refresh(),
      agent.refresh(),
      actions.refresh(),
      incidents.refresh(),
      decisions.refresh(),
      revisions.refresh(),
    ]);
  }, [
    entry.refresh,
    agent.refresh,
    actions.refresh,
    incidents.refresh,
    decisions.refresh,
    revisions.refresh,
  ]);
  const onChanged = useCallback(
    (state: AgentState) => {
      setJustChanged({ state, at: Date.now() });
      refreshAll();
    },
    [refreshAll],
  );

  if (entry.error?.status === 404) {
    return (
      <>
        <h1>{name}</h1>
        <p className="notice error" role="alert">
          {entry.error.message}
        </p>
        <Link href="/">Back to the fleet</Link>
      </>
    );
  }
  const e = entry.data?.model;
  const live =
    justChanged && (!agent.updatedAt || agent.updatedAt < justChanged.at)
      ? justChanged.state
      : agent.data?.agent;
  const paused = live?.paused ?? e?.paused ?? false;
  // Only the polled status says which window the agent's last cycle found open.
  const openWindow = agent.data?.agent.openWindow;
  // The header shows the store's status (the fleet entry); right after a pause or resume, until the entry
  // is read again, the status of the state the agent answered with, through the same rule.
  const answered =
    justChanged && (!entry.updatedAt || entry.updatedAt < justChanged.at)
      ? statusFrom(factsOfAgent(justChanged.state))
      : null;
  const health = answered?.health ?? e?.health ?? 'starting';
  const doing = answered?.doing ?? e?.doing;
  const d =
    e?.lastWindow?.accuracy != null && e.baseline.accuracy != null
      ? e.lastWindow.accuracy - e.baseline.accuracy
      : null;
  const escalated =
    e?.openIncident?.status === 'escalated'
      ? e.openIncident.id
      : live?.openIncident?.status === 'escalated'
        ? live.openIncident.id
        : null;

  return (
    <>
      <div className="page-head">
        <h1>{name}</h1>
        {e && (
          <span data-testid="model-health">
            <HealthBadge health={health} reason={answered?.reason ?? e.healthReason} large />
          </span>
        )}
        <p className="muted">{e ? (answered?.reason ?? e.healthReason) : 'Loading…'}</p>
        {doing && (
          <p className="small" data-testid="agent-doing">
            Agent: {doing}
          </p>
        )}
      </div>
      <ErrorNotice error={entry.error} what="the model" />
      <AgentApproval model={name} agent={agent} onChanged={refreshAll} />
      {acknowledged && escalated !== acknowledged.incidentId && (
        <Confirmation confirmation={acknowledged.confirmation} />
      )}
      {escalated && (
        <section className="panel attention" aria-labelledby="escalation-title">
          <h2 id="escalation-title">
            Escalated: <Link href={incidentHref(escalated)}>the open incident</Link> needs a human
          </h2>
          <AcknowledgeControl
            model={name}
            incidentId={escalated}
            onChanged={(confirmation) => {
              setAcknowledged({ incidentId: escalated, confirmation });
              refreshAll();
            }}
          />
        </section>
      )}

      <div className="grid sidebar">
        <div className="stack">
          <section className="panel" aria-labelledby="kpi-title">
            <h2 id="kpi-title">Last window</h2>
            <dl className="kpis">
              <div>
                <dt>Accuracy</dt>
                <dd>{formatNumber(e?.lastWindow?.accuracy)}</dd>
              </div>
              <div>
                <dt>Baseline</dt>
                <dd>
                  {formatNumber(e?.baseline.accuracy)}
                  {e && !e.baseline.ready ? <span className="muted small"> forming</span> : null}
                  {e && e.baseline.pendingWindows > 0 ? (
                    <span
                      className="muted small"
                      title="healthy windows that join once newer labelled rows have come"
                    >
                      {' '}
                      +{e.baseline.pendingWindows} waiting
                    </span>
                  ) : null}
                </dd>
              </div>
              <div>
                <dt>vs baseline</dt>
                <dd className={d !== null && d < 0 ? 'delta-bad' : undefined}>{formatSigned(d)}</dd>
              </div>
              <div>
                <dt>Predictions</dt>
                <dd>{e?.lastWindow ? `${e.lastWindow.count} (${e.lastWindow.labelled} labelled)` : '–'}</dd>
              </div>
              <div>
                <dt>Window</dt>
                <dd>{e?.lastWindow ? `#${e.lastWindow.seq} · ${formatAgo(e.lastWindow.endAt)}` : '–'}</dd>
              </div>
            </dl>
          </section>
          <section className="panel" aria-labelledby="charts-title">
            <h2 id="charts-title">Time series (last {WINDOWS_SHOWN} windows)</h2>
            <ErrorNotice error={windows.error} what="the windows" />
            {windows.data ? (
              <ModelCharts
                windows={windows.data.windows}
                baseline={windows.data.baseline}
                incidents={incidents.data?.incidents ?? []}
                actions={actions.data?.actions ?? []}
              />
            ) : (
              <p className="muted">Loading…</p>
            )}
          </section>
          <section className="panel" aria-labelledby="segments-title">
            <h2 id="segments-title">Segments (last window)</h2>
            <SegmentsPanel live={live} deployment={revisions.data?.revisions[0]} />
          </section>
          <section className="panel" aria-labelledby="drift-title">
            <h2 id="drift-title">Input drift per feature (last {DRIFT_WINDOWS} windows)</h2>
            <ErrorNotice error={drift.error} what="the drift" />
            {drift.data ? <DriftHeatmap drift={drift.data} /> : <p className="muted">Loading…</p>}
          </section>
        </div>

        <div className="stack">
          <section className="panel" aria-labelledby="deployment-title">
            <h2 id="deployment-title">Deployment</h2>
            <DeploymentPanel model={name} revisions={revisions} onChanged={refreshAll} />
          </section>
          <section className="panel" aria-labelledby="agent-title">
            <h2 id="agent-title">Agent</h2>
            <p className="small" style={{ marginTop: 0 }} data-testid="agent-state">
              {live ? (
                <>
                  <b>{live.paused ? 'Paused' : 'Running'}</b> · cycle {live.cycle} · live health {live.health}
                  <br />
                  {statusFrom(factsOfAgent(live)).doing}
                  {openWindow && (
                    <span data-testid="open-window">
                      <br />
                      Window #{openWindow.seq} open since {formatAgo(openWindow.startAt)}: {openWindow.count}{' '}
                      predictions so far, waiting for the policy's window to close
                    </span>
                  )}
                </>
              ) : agent.error ? (
                <span className="muted">The agent did not answer: {agent.error.message}</span>
              ) : (
                <span className="muted">Asking the agent…</span>
              )}
              <br />
              <a
                href={temporalWorkflowUrl(temporal.url, temporal.namespace, name)}
                target="_blank"
                rel="noreferrer"
              >
                Workflow agent:{name} in the Temporal UI
              </a>
            </p>
            <AgentControls model={name} paused={paused} onChanged={onChanged} />
          </section>
          <section className="panel" aria-labelledby="incidents-title">
            <h2 id="incidents-title">Incidents</h2>
            <ErrorNotice error={incidents.error} what="the incidents" />
            {incidents.data && incidents.data.incidents.length === 0 && (
              <p className="muted">No incident so far.</p>
            )}
            <ul className="stack" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
              {incidents.data?.incidents.map((i) => (
                <li key={i.id}>
                  <Link href={incidentHref(i.id)}>
                    {i.kind} · {formatDateTime(i.openedAt)}
                  </Link>{' '}
                  <StatusBadge status={i.status} />
                  <div className="muted small">
                    {i.summary} · {formatDuration(i.openedAt, i.closedAt)} · {i.decisions} decisions,{' '}
                    {i.actions} actions
                  </div>
                </li>
              ))}
            </ul>
          </section>
          <section className="panel" aria-labelledby="policy-title">
            <h2 id="policy-title">Policy</h2>
            <PolicyPanel model={name} agentPolicy={live?.policy} onChanged={refreshAll} />
          </section>
        </div>
      </div>

      <section className="panel" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <VersionsPanel model={name} deployment={revisions.data?.revisions[0]} />
      </section>

      <section className="panel" aria-labelledby="decisions-title">
        <h2 id="decisions-title">Recent decisions</h2>
        <ErrorNotice error={decisions.error} what="the decisions" />
        {decisions.data ? (
          <DecisionsTable decisions={decisions.data.decisions} />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
    </>
  );
}
