// Drift per segment against each segment's own reference (lib/monitor/reference.ts segment references,
// judged by lib/brain/findings/data-drift.ts segmentDrift): how often stationary segments are flagged in a
// window, and how often a shift of one numeric feature in one segment is. The window traffic is
// lib/bench/window-rows.ts (20 features of mixed types); the segments are one per value of c0 (3), c1 (4)
// and b1 (2): 9 segments of 60 to 250 rows in a window of 600. Nothing is tuned here: the rule's alpha and
// effect gate are the default policy's.
//
//   node --import tsx bench/segment-drift.ts                         (the committed run)
//   node --import tsx bench/segment-drift.ts --windows 50 --out /tmp/segment-drift.json
//
// Writes bench/results/segment-drift.json; progress on stderr.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  measureWindowRows,
  WINDOW_SCHEMA,
  WINDOW_START_MS,
  windowReference,
  windowRows,
} from '../lib/bench/window-rows.ts';
import { DEFAULT_DETECT_SETTINGS } from '../lib/brain/detect.ts';
import { segmentDrift } from '../lib/brain/findings/data-drift.ts';
import type { WindowPrediction } from '../lib/monitor/index.ts';
import { resolveSegments } from '../lib/segments/definition.ts';
import { Random } from '../lib/sim/random.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '11,12,13' },
    windows: { type: 'string', default: '200' },
    /** Shifts of x0 (normal, sd 10) in segment c0=v1 only, in its standard deviations. */
    shifts: { type: 'string', default: '0.25,0.5,1' },
    'shift-windows': { type: 'string', default: '50' },
    rows: { type: 'string', default: '600' },
    out: { type: 'string', default: path.join(import.meta.dirname, 'results', 'segment-drift.json') },
  },
});
const seeds = values.seeds.split(',').map(Number);
const windows = Number(values.windows);
const rowsPerWindow = Number(values.rows);
const { segments } = resolveSegments([{ by: 'c0' }, { by: 'c1' }, { by: 'b1' }], WINDOW_SCHEMA);
const { alpha } = DEFAULT_DETECT_SETTINGS.detection;

function shiftedRows(rng: Random, fromMs: number, shift: number): WindowPrediction[] {
  return [...windowRows(rng, rowsPerWindow, 0, fromMs)].map((row) => {
    const x0 = row.features.x0 as number | null;
    return shift !== 0 && row.features.c0 === 'v1' && x0 !== null
      ? { ...row, features: { ...row.features, x0: x0 + 10 * shift } }
      : row;
  });
}

/** `count` windows at `shift`: windows with a segment flagged, the shifted one flagged, raw segment p < alpha. */
function run(seed: number, count: number, shift: number) {
  const rng = new Random(seed);
  const reference = windowReference([...windowRows(rng, 4000, 0)], segments);
  let flagged = 0;
  let shiftedFound = 0;
  let othersFlagged = 0;
  let judged = 0;
  let rawBelowAlpha = 0;
  for (let seq = 0; seq < count; seq++) {
    const rows = shiftedRows(rng, WINDOW_START_MS + (seq + 1) * 3_600_000, shift);
    const summary = measureWindowRows(reference, rows, seq, segments);
    const r = segmentDrift(summary, DEFAULT_DETECT_SETTINGS, new Set());
    judged += r.judged;
    rawBelowAlpha += summary.segments!.filter((p) => (p.drift?.adjustedPValue ?? 1) < alpha).length;
    if (r.drifted.length > 0) flagged++;
    if (r.drifted.some((d) => d.segment === 'c0=v1' && d.name === 'x0')) shiftedFound++;
    othersFlagged += r.drifted.filter((d) => d.segment !== 'c0=v1').length;
  }
  return {
    seed,
    shift,
    windows: count,
    segmentWindowsJudged: judged,
    rawBelowAlpha,
    windowsFlagged: flagged,
    shiftedFound,
    othersFlagged,
  };
}

const stationary = seeds.map((seed) => {
  const r = run(seed, windows, 0);
  console.error(JSON.stringify(r));
  return r;
});
const shifted = values.shifts
  .split(',')
  .map(Number)
  .map((shift) => {
    const r = run(seeds[0]!, Number(values['shift-windows']), shift);
    console.error(JSON.stringify(r));
    return r;
  });
const sum = (k: 'windows' | 'windowsFlagged' | 'segmentWindowsJudged' | 'rawBelowAlpha') =>
  stationary.reduce((n, r) => n + r[k], 0);
const result = {
  alpha,
  segments: segments.map((s) => s.name),
  rowsPerWindow,
  stationary: {
    runs: stationary,
    windowsFlaggedShare: sum('windowsFlagged') / sum('windows'),
    rawBelowAlphaShare: sum('rawBelowAlpha') / sum('segmentWindowsJudged'),
  },
  shifted,
};
fs.mkdirSync(path.dirname(values.out), { recursive: true });
fs.writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.error(`wrote ${values.out}`);
