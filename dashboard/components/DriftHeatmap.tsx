'use client';
import { type KeyboardEvent, useState } from 'react';
import { formatNumber, formatTime } from '../lib/format';
import type { DriftCell, DriftResponse } from '../lib/types';

/**
 * PSI bands, the usual reading of the index (Siddiqi, 2006): below 0.1 stable, up to 0.2 a moderate
 * shift, above it a significant one (the policy's default minimum effect), above 0.5 a severe one.
 */
const BANDS = [
  { below: 0.1, band: 'stable' },
  { below: 0.2, band: 'moderate' },
  { below: 0.5, band: 'shifted' },
  { below: Number.POSITIVE_INFINITY, band: 'severe' },
] as const;
type Band = (typeof BANDS)[number]['band'] | 'unjudged' | 'missing';

const TEST_NAMES = { kolmogorov_smirnov: 'Kolmogorov–Smirnov', chi_square: 'chi-square' } as const;

function bandOf(cell: DriftCell | null): Band {
  if (!cell) return 'missing';
  if (!cell.judged) return 'unjudged';
  return BANDS.find((b) => cell.psi < b.below)!.band;
}

const formatP = (p: number | null) => (p === null ? '–' : p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** What a cell says, in words: the tooltip, the accessible name and the detail line are this text. */
export function describeCell(feature: string, seq: number, cell: DriftCell | null): string {
  if (!cell) return `${feature}, window ${seq}: not measured`;
  if (!cell.judged) return `${feature}, window ${seq}: not judged (${cell.reason})`;
  return (
    `${feature}, window ${seq}: ${TEST_NAMES[cell.test]} statistic ${formatNumber(cell.statistic)}, ` +
    `p-value ${formatP(cell.pValue)} (adjusted ${formatP(cell.adjustedPValue)}), PSI ${formatNumber(cell.psi)}`
  );
}

/**
 * Per-feature drift over windows as a grid of cells: a row per feature, a column per window (oldest
 * left), each cell coloured by its PSI band and described (test, statistic, p-value) in its tooltip. The
 * grid is one tab stop; arrow keys move between cells (an ARIA grid with a roving tabindex) and the
 * focused or hovered cell is described below it as well.
 */
export function DriftHeatmap({ drift }: { drift: DriftResponse }) {
  // The active cell by feature and window, not by position: new windows shift the columns on every poll.
  const [active, setActive] = useState<{ feature: string; seq: number } | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const { features, windows, cells } = drift;
  if (windows.length === 0) return <p className="muted">No window has been measured yet.</p>;
  if (features.length === 0) return <p className="muted">The model has no features to compare.</p>;
  const unjudged = windows.every((w) => w.reference !== 'used');
  const activeRow = active ? features.indexOf(active.feature) : -1;
  const activeCol = active ? windows.findIndex((w) => w.seq === active.seq) : -1;
  // Until a cell was chosen (or when it scrolled out), the newest window of the first feature.
  const [row, col] = activeRow >= 0 && activeCol >= 0 ? [activeRow, activeCol] : [0, windows.length - 1];

  const describe = (r: number, c: number) =>
    describeCell(features[r]!, windows[c]!.seq, cells[r]?.[c] ?? null);
  const move = (event: KeyboardEvent<HTMLTableElement>) => {
    const steps: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    let next: [number, number] | null = null;
    const step = steps[event.key];
    if (step) {
      next = [
        Math.max(0, Math.min(features.length - 1, row + step[0])),
        Math.max(0, Math.min(windows.length - 1, col + step[1])),
      ];
    } else if (event.key === 'Home') next = [row, 0];
    else if (event.key === 'End') next = [row, windows.length - 1];
    if (!next) return;
    event.preventDefault();
    setActive({ feature: features[next[0]]!, seq: windows[next[1]]!.seq });
    setShown(describe(...next));
    const grid = event.currentTarget;
    requestAnimationFrame(() =>
      grid.querySelector<HTMLElement>(`[data-row="${next[0]}"][data-col="${next[1]}"]`)?.focus(),
    );
  };

  return (
    <div className="stack">
      {unjudged && (
        <p className="muted small">
          No window was compared with a reference profile (the production version has none), so drift is not
          judged.
        </p>
      )}
      <div className="heatmap-scroll">
        <table
          // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: WAI-ARIA's data grid pattern, a table whose cells arrow keys move between
          role="grid"
          aria-label={`Drift per feature over the last ${windows.length} windows`}
          className="heatmap"
          onKeyDown={move}
        >
          <thead>
            <tr>
              <th scope="col" className="heatmap-corner">
                feature \ window
              </th>
              {windows.map((w) => (
                <th
                  scope="col"
                  key={w.seq}
                  className="heatmap-col"
                  data-finding={w.finding?.state ?? undefined}
                  title={`window ${w.seq}, ended ${formatTime(w.endAt)}${
                    w.finding ? ` · data drift ${w.finding.state}: ${w.finding.summary ?? ''}` : ''
                  }`}
                >
                  <span className="visually-hidden">window {w.seq}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {features.map((feature, r) => (
              <tr key={feature}>
                <th scope="row" className="heatmap-feature">
                  {feature}
                </th>
                {windows.map((w, c) => {
                  const cell = cells[r]?.[c] ?? null;
                  const text = describe(r, c);
                  return (
                    <td
                      key={w.seq}
                      className="heatmap-cell"
                      data-band={bandOf(cell)}
                      data-feature={feature}
                      data-window={w.seq}
                      data-row={r}
                      data-col={c}
                      title={text}
                      aria-label={text}
                      tabIndex={r === row && c === col ? 0 : -1}
                      onMouseEnter={() => setShown(text)}
                      onFocus={() => {
                        setActive({ feature, seq: w.seq });
                        setShown(text);
                      }}
                    />
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="small heatmap-detail" aria-live="polite" data-testid="heatmap-detail">
        {shown ?? 'Hover over a cell, or focus the grid and use the arrow keys, to read its test.'}
      </p>
      <ul className="heatmap-legend small" aria-label="Colour key">
        <li>
          <span className="heatmap-cell" data-band="stable" /> PSI &lt; 0.1
        </li>
        <li>
          <span className="heatmap-cell" data-band="moderate" /> 0.1–0.2
        </li>
        <li>
          <span className="heatmap-cell" data-band="shifted" /> 0.2–0.5
        </li>
        <li>
          <span className="heatmap-cell" data-band="severe" /> ≥ 0.5
        </li>
        <li>
          <span className="heatmap-cell" data-band="unjudged" /> not judged
        </li>
        <li>
          <span className="heatmap-col-key" /> window with a data-drift finding
        </li>
      </ul>
    </div>
  );
}
