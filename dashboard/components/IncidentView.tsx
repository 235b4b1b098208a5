'use client';
import Link from 'next/link';
import { useState } from 'react';
import { usePolling } from '../lib/api';
import {
  formatDateTime,
  formatDuration,
  formatNumber,
  formatTime,
  modelHref,
  temporalWorkflowUrl,
} from '../lib/format';
import type { TemporalUi } from '../lib/server-config';
import type {
  ActionView,
  AgentResponse,
  DecisionView,
  FindingView,
  IncidentDetail,
  TimelineEntry,
  TimelineStage,
} from '../lib/types';
import { AcknowledgeControl, AgentApproval, Confirmation } from './ApprovalControls';
import { ErrorNotice, StatusBadge } from './HealthBadge';
import { agentPath } from './OperatorForm';

/** The loop's steps in order; typed by the API's stages, so a new stage cannot be forgotten here. */
const STEP_ORDER: Record<TimelineStage, number> = {
  detected: 0,
  decided: 1,
  acted: 2,
  verified: 3,
  recovered: 4,
};
const STEPS = (Object.keys(STEP_ORDER) as TimelineStage[]).sort((a, b) => STEP_ORDER[a] - STEP_ORDER[b]);

/** Evidence numbers worth showing, in this order, with their labels. */
const EVIDENCE_FIELDS: [string, string][] = [
  ['accuracy', 'accuracy'],
  ['baselineAccuracy', 'baseline'],
  ['drop', 'drop'],
  ['z', 'z'],
  ['labelled', 'labelled'],
  ['count', 'predictions'],
  ['baselineWindows', 'baseline windows'],
];

function Evidence({ values }: { values: Record<string, unknown> }) {
  const shown = EVIDENCE_FIELDS.filter(([key]) => values[key] !== undefined && values[key] !== null);
  if (shown.length === 0) return null;
  return (
    <dl className="evidence small">
      {shown.map(([key, label]) => (
        <div key={key}>
          <dt>{label}</dt>
          <dd>
            {Number.isInteger(values[key])
              ? String(values[key])
              : formatNumber(values[key], key === 'z' ? 1 : 3)}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function FindingBody({ finding }: { finding: FindingView }) {
  return (
    <>
      <div>
        <b>{finding.kind}</b> is <b>{finding.state}</b> ({finding.severity}) in window {finding.windowSeq}
        {finding.summary ? `: ${finding.summary}` : ''}
      </div>
      <Evidence values={finding.evidence} />
    </>
  );
}

function DecisionBody({ decision }: { decision: DecisionView }) {
  const window = (decision.evidence.window ?? {}) as Record<string, unknown>;
  return (
    <>
      <div>
        Rule <code data-testid="rule">{decision.rule}</code> fired → action <b>{decision.action}</b>
      </div>
      <div className="small">{decision.reason}</div>
      <Evidence values={window} />
      {decision.alternatives.length > 0 && (
        <div className="small">
          Rejected alternatives:
          <ul className="alternatives">
            {decision.alternatives.map((a) => (
              <li key={`${a.action}-${a.rejectedBecause}`}>
                <b>{a.action}</b>: {a.rejectedBecause}
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}

function ActionBody({ action }: { action: ActionView }) {
  return (
    <>
      <div>
        <b>{action.type}</b> by {action.actor} <StatusBadge status={action.status} />
      </div>
      <div className="small">{action.reason}</div>
    </>
  );
}

function Entry({ entry }: { entry: TimelineEntry }) {
  return (
    <div className="entry" data-stage={entry.stage}>
      <div className="entry-head">
        <span className="stage">{entry.stage}</span>
        <span className="muted small">
          {formatTime(entry.at)}
          {entry.cycle !== null ? ` · cycle ${entry.cycle}` : ''} · {entry.source}
        </span>
      </div>
      {entry.source === 'finding' && <FindingBody finding={entry.finding} />}
      {entry.source === 'decision' && <DecisionBody decision={entry.decision} />}
      {entry.source === 'action' && <ActionBody action={entry.action} />}
    </div>
  );
}

/** What makes two cycles alike: same stages, sources, rules and finding states. */
function signature(entries: TimelineEntry[]): string {
  return entries
    .map((e) =>
      e.source === 'decision'
        ? `${e.stage}:${e.decision.rule}`
        : e.source === 'finding'
          ? `${e.stage}:${e.finding.kind}:${e.finding.state}`
          : `${e.stage}:${e.action.type}`,
    )
    .join('|');
}

interface Group {
  key: string;
  entries: TimelineEntry[];
  /** Later cycles that repeated this one exactly (folded away, still listed). */
  repeats: TimelineEntry[][];
}

/** Groups the timeline by cycle and folds runs of identical cycles, so a long incident stays readable. */
function groupTimeline(timeline: TimelineEntry[]): Group[] {
  const byCycle: TimelineEntry[][] = [];
  for (const entry of timeline) {
    const last = byCycle.at(-1);
    const lastCycle = last?.[0]?.cycle;
    if (last && (entry.cycle === null || entry.cycle === lastCycle)) last.push(entry);
    else byCycle.push([entry]);
  }
  const groups: Group[] = [];
  for (const entries of byCycle) {
    const previous = groups.at(-1);
    if (previous && previous.entries.length > 0 && signature(previous.entries) === signature(entries)) {
      previous.repeats.push(entries);
    } else {
      groups.push({ key: `${entries[0]?.at}-${groups.length}`, entries, repeats: [] });
    }
  }
  return groups;
}

export function IncidentView({ id, temporal }: { id: string; temporal: TemporalUi }) {
  const { data, error, refresh } = usePolling<IncidentDetail>(
    `/v1/incidents/${encodeURIComponent(id)}`,
    3000,
  );
  // While the incident is open the agent's own state adds what the store does not hold: a pending
  // approval, and the remedies tried with what verification made of them.
  const open = data !== undefined && data.incident.closedAt === null;
  const agent = usePolling<AgentResponse>(open ? agentPath(data.incident.model) : null, 5000);
  const [acknowledged, setAcknowledged] = useState<string | null>(null);
  if (!data) {
    return (
      <>
        <h1>Incident</h1>
        {error ? (
          <p className="notice error" role="alert">
            {error.message}
          </p>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </>
    );
  }
  const { incident, timeline } = data;
  const live = agent.data?.agent.openIncident;
  const attempts = live?.id === incident.id ? (live.attempts ?? []) : [];
  const reached = new Map<TimelineStage, TimelineEntry>();
  for (const entry of timeline) if (!reached.has(entry.stage)) reached.set(entry.stage, entry);
  const rules = [...new Set(data.decisions.map((d) => d.rule))];
  const groups = groupTimeline(timeline);

  return (
    <>
      <div className="page-head">
        <h1>
          Incident: {incident.kind} on <Link href={modelHref(incident.model)}>{incident.model}</Link>
        </h1>
        <StatusBadge status={incident.status} />
      </div>
      <ErrorNotice error={error} what="the latest state of the incident" />
      {incident.status === 'escalated' && !incident.closedAt && (
        <section className="panel attention" aria-labelledby="escalated-title">
          <h2 id="escalated-title">Escalated to a human</h2>
          <AcknowledgeControl
            model={incident.model}
            incidentId={incident.id}
            onChanged={(confirmation) => {
              setAcknowledged(confirmation);
              void refresh();
            }}
          />
        </section>
      )}
      {acknowledged && incident.closedAt && <Confirmation confirmation={acknowledged} />}
      <AgentApproval
        model={incident.model}
        agent={agent}
        incidentId={incident.id}
        onChanged={() => void refresh()}
      />
      <section className="panel" aria-labelledby="summary-title">
        <h2 id="summary-title">Summary</h2>
        <p style={{ marginTop: 0 }}>{incident.summary}</p>
        <dl className="kpis">
          <div>
            <dt>Severity</dt>
            <dd>{incident.severity}</dd>
          </div>
          <div>
            <dt>Opened</dt>
            <dd>{formatDateTime(incident.openedAt)}</dd>
          </div>
          <div>
            <dt>{incident.closedAt ? 'Closed' : 'Open for'}</dt>
            <dd>
              {incident.closedAt
                ? formatDateTime(incident.closedAt)
                : formatDuration(incident.openedAt, null)}
            </dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(incident.openedAt, incident.closedAt)}</dd>
          </div>
        </dl>
        <p className="small">
          Rules that fired:{' '}
          {rules.map((r, i) => (
            <span key={r}>
              {i > 0 ? ', ' : ''}
              <code>{r}</code>
            </span>
          ))}
          <br />
          <a
            href={temporalWorkflowUrl(temporal.url, temporal.namespace, incident.model)}
            target="_blank"
            rel="noreferrer"
          >
            The agent’s workflow (agent:{incident.model}) in the Temporal UI
          </a>
        </p>
      </section>

      <section className="panel" aria-labelledby="loop-title">
        <h2 id="loop-title">The loop</h2>
        <ol className="stepper">
          {STEPS.map((stage) => {
            const first = reached.get(stage);
            return (
              <li key={stage} data-reached={Boolean(first)} data-stage={stage}>
                <div className="step-name">{stage}</div>
                <div className="small muted">
                  {first
                    ? `${formatTime(first.at)}${first.cycle !== null ? ` · cycle ${first.cycle}` : ''}`
                    : 'not yet'}
                </div>
              </li>
            );
          })}
        </ol>
      </section>

      {attempts.length > 0 && (
        <section className="panel" aria-labelledby="attempts-title">
          <h2 id="attempts-title">Remedies tried</h2>
          <ol className="small" data-testid="attempts">
            {attempts.map((a) => (
              <li key={`${a.action}-${a.at}`}>
                <b>{a.action}</b> at {formatTime(a.at)}: <StatusBadge status={a.outcome} /> {a.detail}
              </li>
            ))}
          </ol>
          {live?.baseline && (
            <p className="muted small">
              Verification compares {live.baseline.metric} with its pre-failure baseline{' '}
              {formatNumber(live.baseline.value)} ({live.baseline.rows} rows).
            </p>
          )}
        </section>
      )}

      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <ol className="timeline">
          {groups.map((g) => (
            <li key={g.key}>
              <div className="small muted">
                {g.entries[0]?.cycle !== null && g.entries[0]?.cycle !== undefined
                  ? `Cycle ${g.entries[0].cycle}`
                  : 'Action'}
                {g.repeats.length > 0 ? ` (and ${g.repeats.length} more identical cycles)` : ''}
              </div>
              {g.entries.map((entry) => (
                <Entry key={`${entry.source}-${entryId(entry)}`} entry={entry} />
              ))}
              {g.repeats.length > 0 && (
                <details className="small" style={{ marginTop: '0.4rem' }}>
                  <summary>Show the {g.repeats.length} identical cycles</summary>
                  {g.repeats.flat().map((entry) => (
                    <Entry key={`${entry.source}-${entryId(entry)}`} entry={entry} />
                  ))}
                </details>
              )}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}

function entryId(entry: TimelineEntry): string {
  return entry.source === 'finding'
    ? entry.finding.id
    : entry.source === 'decision'
      ? entry.decision.id
      : entry.action.id;
}
