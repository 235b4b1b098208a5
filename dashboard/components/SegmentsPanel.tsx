'use client';
import type { AgentState } from '../../lib/brain/types';
import { formatNumber } from '../lib/format';
import type { Revision } from '../lib/types';

/**
 * The model's segments in the agent's last window: rows, labelled rows, accuracy (a regressor's: RMSE, the
 * metric the segment finding judges it on) and the most shifted feature of each — against the segment's
 * own reference, or "vs all, not judged" against the whole population's — the segment a `segment`
 * finding or an open segment incident names, the segments a `data_drift` finding names, and the segments the fallback serves.
 */
export function SegmentsPanel({ live, deployment }: { live: AgentState | undefined; deployment?: Revision }) {
  const parts = live?.lastWindow?.segments;
  if (!parts || parts.length === 0) {
    return (
      <p className="muted small">
        No segments measured. Define them with PUT /v1/models/&#123;model&#125;/segments (by a categorical
        feature or a rule); the agent then judges and protects each on its own.
      </p>
    );
  }
  const finding = live?.lastFindings.find((f) => f.kind === 'segment');
  // The segment the last finding names, or else the one whose incident is open: once its route stands the
  // segment is not judged (the finding clears), and it stays marked until its incident ends.
  const flagged =
    (finding?.kind === 'segment' ? finding.evidence.segment : null) ??
    (live?.openIncident?.kind === 'segment' ? (live.openIncident.segment ?? null) : null);
  const drift = live?.lastFindings.find((f) => f.kind === 'data_drift');
  const drifted = new Set(
    drift?.kind === 'data_drift' ? (drift.evidence.segmentsDrifted ?? []).map((d) => d.segment) : [],
  );
  const onFallback = new Set(deployment?.fallbackSegments ?? []);
  const regression = live?.lastWindow?.task === 'regression';
  return (
    <>
      {finding && (
        <p className="small" data-testid="segment-finding">
          <b>{finding.state}</b>: {finding.summary}
        </p>
      )}
      <table className="small" data-testid="segments">
        <thead>
          <tr>
            <th>segment</th>
            <th>rows</th>
            <th>labelled</th>
            <th>{regression ? 'RMSE' : 'accuracy'}</th>
            <th>most shifted feature (PSI)</th>
            <th>served by</th>
          </tr>
        </thead>
        <tbody>
          {parts.map((p) => (
            <tr key={p.name}>
              <td>
                {p.name}
                {p.name === flagged ? ' ⚠' : ''}
              </td>
              <td>{p.count}</td>
              <td>{p.labelled}</td>
              <td>{performanceOf(p, regression)}</td>
              <td>
                {p.drift ? `${p.drift.name} (${formatNumber(p.drift.psi, 2)})` : '–'}
                {p.driftReference === 'segment' ? '' : ' vs all, not judged'}
                {drifted.has(p.name) ? ' ⚠ drifted' : ''}
              </td>
              <td>{onFallback.has(p.name) ? 'fallback' : 'production'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** The metric a segment is judged on, as the table shows it. */
function performanceOf(p: { accuracy: number | null; rmse: number | null }, regression: boolean): string {
  const value = regression ? p.rmse : p.accuracy;
  return value === null ? '–' : formatNumber(value, 3);
}
