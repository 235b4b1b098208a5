'use client';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceDot,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatNumber, formatTime } from '../lib/format';
import type { ActionView, Baseline, IncidentView, WindowPoint } from '../lib/types';

const COLORS = {
  accuracy: '#0f4c5c',
  baseline: '#6b7785',
  count: '#0b5cad',
  labelled: '#8a3b00',
  opened: '#9b1c1c',
  closed: '#17663a',
  action: '#5b4a8b',
};

interface Marker {
  t: number;
  label: string;
  color: string;
  dashed: boolean;
}

/** Incident openings and closings as vertical lines (actions are dots on the time axis). */
function markersOf(incidents: IncidentView[], from: number, to: number): Marker[] {
  const inRange = (m: Marker) => m.t >= from && m.t <= to;
  return incidents
    .flatMap((i) => [
      { t: Date.parse(i.openedAt), label: `${i.kind} opened`, color: COLORS.opened, dashed: false },
      ...(i.closedAt
        ? [{ t: Date.parse(i.closedAt), label: i.status, color: COLORS.closed, dashed: true }]
        : []),
    ])
    .filter(inRange);
}

const axisProps = (from: number, to: number) =>
  ({
    dataKey: 't',
    type: 'number',
    scale: 'time',
    domain: [from, to],
    tickFormatter: (t: number) => formatTime(t),
    minTickGap: 24,
    fontSize: 12,
  }) as const;

export function ModelCharts({
  windows,
  baseline,
  incidents,
  actions,
}: {
  windows: WindowPoint[];
  baseline: Baseline;
  incidents: IncidentView[];
  actions: ActionView[];
}) {
  if (windows.length === 0) return <p className="muted">No window has been measured yet.</p>;
  const points = windows.map((w) => ({
    t: Date.parse(w.endAt),
    seq: w.seq,
    accuracy: w.accuracy,
    count: w.count,
    labelled: w.labelled,
  }));
  const from = points[0]!.t;
  const to = points.at(-1)!.t;
  const lines = markersOf(incidents, from, to);
  const dots = actions
    .map((a) => ({ t: Date.parse(a.createdAt), label: a.type }))
    .filter((d) => d.t >= from && d.t <= to);
  const maxCount = Math.max(1, ...points.map((p) => p.count));
  const tooltipLabel = (t: unknown) => {
    const point = points.find((p) => p.t === t);
    return `${formatTime(Number(t))}${point ? ` · window ${point.seq}` : ''}`;
  };
  // Actions sit on the time axis (y = 0), below the incident labels at the top of the lines.
  const references = () => [
    ...lines.map((m) => (
      <ReferenceLine
        key={`line-${m.t}-${m.label}`}
        x={m.t}
        stroke={m.color}
        strokeWidth={2}
        strokeDasharray={m.dashed ? '5 4' : undefined}
        label={{ value: m.label, position: 'insideTopLeft', fill: m.color, fontSize: 11 }}
      />
    )),
    ...dots.map((d) => (
      <ReferenceDot
        key={`dot-${d.t}-${d.label}`}
        x={d.t}
        y={0}
        r={5}
        fill={COLORS.action}
        stroke="#fff"
        label={{ value: d.label, position: 'top', fill: COLORS.action, fontSize: 11 }}
      />
    )),
  ];

  return (
    <div className="stack">
      <figure>
        <figcaption>Accuracy per window</figcaption>
        <LineChart responsive className="chart" style={{ width: '100%', height: 240 }} data={points}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e3e8ed" />
          <XAxis {...axisProps(from, to)} />
          <YAxis domain={[0, 1]} ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]} width={36} fontSize={12} />
          <Tooltip labelFormatter={tooltipLabel} formatter={(v) => formatNumber(v)} />
          <Legend />
          {baseline.accuracy !== null && (
            <ReferenceLine
              y={baseline.accuracy}
              stroke={COLORS.baseline}
              strokeDasharray="6 4"
              label={{
                value: `baseline ${baseline.accuracy.toFixed(3)}`,
                position: 'insideBottomLeft',
                fontSize: 11,
              }}
            />
          )}
          {references()}
          <Line
            name="accuracy"
            dataKey="accuracy"
            stroke={COLORS.accuracy}
            strokeWidth={2}
            dot={points.length < 60}
            isAnimationActive={false}
            connectNulls={false}
          />
        </LineChart>
      </figure>
      <figure>
        <figcaption>Traffic per window</figcaption>
        <LineChart responsive className="chart" style={{ width: '100%', height: 220 }} data={points}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e3e8ed" />
          <XAxis {...axisProps(from, to)} />
          <YAxis domain={[0, maxCount]} allowDecimals={false} width={44} fontSize={12} />
          <Tooltip labelFormatter={tooltipLabel} />
          <Legend />
          {references()}
          <Line
            name="predictions"
            dataKey="count"
            stroke={COLORS.count}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
          <Line
            name="labelled"
            dataKey="labelled"
            stroke={COLORS.labelled}
            strokeWidth={2}
            strokeDasharray="5 3"
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </figure>
      <p className="legend-note">
        Red line: incident opened · green dashed line: incident closed · purple dot on the time axis: an
        action (alert, pause, resume…). Times are window ends.
      </p>
    </div>
  );
}
