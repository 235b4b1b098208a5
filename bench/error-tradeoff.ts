// The false-alarm/delay trade-off of detect's per-row error charts, beside default ADWIN and
// Page–Hinkley: false alarms on long stationary 0/1 error streams (rate 0.10) and detection of the
// smallest orientation change (0.20 → 0.25 at row 5,000), for several decision intervals of the
// smallest chart (the one that finds small rises; DetectSettings.errorChartThresholds). bench:detection
// measures the default setting (7) on 1,000,000 stationary rows; this run uses twenty times as many, so
// that false-alarm rates around one per million can be told apart.
//
//   npm run bench:error-tradeoff                      (400 stationary seeds × 50,000 rows, h = 7…12)
//   npm run bench:error-tradeoff -- --seeds 20 --thresholds 7,9
//
// Writes bench/results/error-tradeoff.json and the "## Error-stream trade-off" section of
// docs/benchmarks.md; a progress line per setting on stderr.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BERNOULLI_CUSUM_DEFAULTS } from '../lib/detectors/bernoulli-cusum.ts';
import { DEFAULT_DETECT_SETTINGS } from '../workflows/detect.ts';
import { alarmsOn, bernoulliErrors, type Method } from './detection.ts';

const ROOT = path.join(import.meta.dirname, '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'error-tradeoff.json');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
/** detect's window of labelled rows, as in bench:detection. */
const WINDOW = 250;
const STATIONARY = { before: 0.1, after: 0.1, change: 50_000, length: 50_000 };
const SMALL_RISE = { before: 0.2, after: 0.25, change: 5000, length: 15_000 };
const RISE_SEEDS = 40;

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '400' },
    thresholds: { type: 'string', default: '7,8,9,10,11,12' },
  },
});
const seeds = Number(values.seeds);
const thresholds = values.thresholds.split(',').map(Number);
if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`--seeds must be a positive integer`);
if (thresholds.some((h) => !(h > 0))) throw new RangeError(`--thresholds must be positive numbers`);

interface Row {
  method: string;
  threshold: number | null;
  falseAlarms: number;
  stationaryRows: number;
  falseAlarmsPer10k: number;
  caught: number;
  of: number;
  meanDelay: number | null;
}

function measure(method: Method, threshold: number | null): Row {
  const defaults = BERNOULLI_CUSUM_DEFAULTS.charts.map((c) => c.threshold);
  const settings =
    threshold === null
      ? DEFAULT_DETECT_SETTINGS
      : { ...DEFAULT_DETECT_SETTINGS, errorChartThresholds: [threshold, ...defaults.slice(1)] };
  let falseAlarms = 0;
  for (let seed = 1; seed <= seeds; seed++)
    falseAlarms += alarmsOn(bernoulliErrors(STATIONARY, seed), method, WINDOW, 'row', settings).length;
  const delays: number[] = [];
  // Seeds apart from the stationary ones, so the two measurements are independent.
  for (let seed = 100_001; seed < 100_001 + RISE_SEEDS; seed++) {
    const first = alarmsOn(bernoulliErrors(SMALL_RISE, seed), method, WINDOW, 'row', settings).find(
      (at) => at > SMALL_RISE.change,
    );
    if (first !== undefined) delays.push(first - SMALL_RISE.change);
  }
  const stationaryRows = seeds * STATIONARY.length;
  return {
    method,
    threshold,
    falseAlarms,
    stationaryRows,
    falseAlarmsPer10k: (falseAlarms * 10_000) / stationaryRows,
    caught: delays.length,
    of: RISE_SEEDS,
    meanDelay: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
  };
}

const started = Date.now();
const rows: Row[] = [];
const settingsToRun: [Method, number | null][] = [
  ...thresholds.map((h): [Method, number] => ['detect', h]),
  ['adwin', null],
  ['page_hinkley', null],
];
for (const [method, threshold] of settingsToRun) {
  const r = measure(method, threshold);
  rows.push(r);
  process.stderr.write(
    `[${Math.round((Date.now() - started) / 1000)}s] ${r.method}${r.threshold === null ? '' : ` h=${r.threshold}`}: ${r.falseAlarms} false alarms in ${r.stationaryRows} rows; 0.20→0.25 caught ${r.caught}/${r.of}, mean delay ${r.meanDelay?.toFixed(0) ?? '-'}\n`,
  );
}
const seconds = Math.round((Date.now() - started) / 1000);
fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
fs.writeFileSync(
  RESULTS,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), seconds, seeds, window: WINDOW, rows }, null, 2)}\n`,
);

const name = (r: Row) =>
  r.method === 'detect'
    ? `detect, h = ${r.threshold}${r.threshold === BERNOULLI_CUSUM_DEFAULTS.charts[0]!.threshold ? ' (default)' : ''}`
    : r.method === 'adwin'
      ? 'ADWIN (delta 0.002)'
      : 'Page–Hinkley (River defaults)';
const section = `## Error-stream trade-off

Command: \`npm run bench:error-tradeoff\` (bench/error-tradeoff.ts, ${seconds} s): false alarms on ${seeds} stationary
0/1 error streams of 50,000 rows (rate 0.10; ${(seeds * STATIONARY.length).toLocaleString('en')} rows in all) and the 0.20 → 0.25 change at
row 5,000 on ${RISE_SEEDS} other seeds, for decision intervals h of detect's smallest error chart (windows of
${WINDOW} labelled rows), beside default ADWIN and Page–Hinkley.

| detector | false alarms | per 10k rows | 0.20 → 0.25 caught | mean delay (rows) |
|---|---|---|---|---|
${rows.map((r) => `| ${name(r)} | ${r.falseAlarms} | ${r.falseAlarmsPer10k.toFixed(4)} | ${r.caught}/${r.of} | ${r.meanDelay?.toFixed(0) ?? '–'} |`).join('\n')}
`;
const doc = fs.readFileSync(DOC, 'utf8');
const start = doc.indexOf('## Error-stream trade-off\n');
const next = start === -1 ? -1 : doc.indexOf('\n## ', start + 1);
const updated =
  start === -1
    ? doc.replace('\n## Sequential detectors', `\n${section}\n## Sequential detectors`)
    : `${doc.slice(0, start)}${section}${next === -1 ? '' : doc.slice(next)}`;
fs.writeFileSync(DOC, updated);
