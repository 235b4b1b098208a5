// The false-alarm/delay trade-off of detect's error-rate watch, in both of its modes (policy
// `detection.errorRateMode`), beside default ADWIN and Page–Hinkley: false alarms on long stationary
// 0/1 error streams (rate 0.10), and the delay to each of the issue's orientation changes. bench:detection
// measures the default mode on 1,000,000 stationary rows; this run uses a hundred times as many, so that
// false-alarm rates around one per ten million rows can be told apart.
//
//   npm run bench:error-tradeoff                (2,000 stationary seeds × 50,000 rows, 200 seeds per change)
//   npm run bench:error-tradeoff -- --seeds 200 --change-seeds 10
//
// Writes bench/results/error-tradeoff.json and the "## Error-stream trade-off" section of
// docs/benchmarks.md; a progress line per detector on stderr.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DETECT_SETTINGS, type DetectSettings } from '../lib/brain/detect.ts';
import type { ErrorRateMode } from '../lib/policy/policy.ts';
import { alarmsOn, bernoulliErrors, type Method } from './detection.ts';
import { writeBenchmarkSection } from './doc-section.ts';

const ROOT = path.join(import.meta.dirname, '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'error-tradeoff.json');
/** detect's window of labelled rows, as in bench:detection. */
const WINDOW = 250;
const STATIONARY = { before: 0.1, after: 0.1, change: 50_000, length: 50_000 };
/** The issue's orientation changes. */
const CHANGES = [
  { label: '0.10 → 0.30', before: 0.1, after: 0.3, change: 5000, length: 10_000 },
  { label: '0.10 → 0.20', before: 0.1, after: 0.2, change: 5000, length: 10_000 },
  { label: '0.10 → 0.20 after 50k', before: 0.1, after: 0.2, change: 50_000, length: 55_000 },
  { label: '0.20 → 0.25', before: 0.2, after: 0.25, change: 5000, length: 15_000 },
];

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '2000' },
    'change-seeds': { type: 'string', default: '200' },
  },
});
const seeds = Number(values.seeds);
const changeSeeds = Number(values['change-seeds']);
for (const [name, n] of [
  ['--seeds', seeds],
  ['--change-seeds', changeSeeds],
] as const) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer`);
}

interface Detector {
  name: string;
  method: Method;
  mode: ErrorRateMode | null;
}

const DETECTORS: Detector[] = [
  { name: 'detect, errorRateMode fast (default)', method: 'detect', mode: 'fast' },
  { name: 'detect, errorRateMode conservative', method: 'detect', mode: 'conservative' },
  { name: 'ADWIN (delta 0.002)', method: 'adwin', mode: null },
  { name: 'Page–Hinkley (River defaults)', method: 'page_hinkley', mode: null },
];

interface ChangeResult {
  label: string;
  caught: number;
  of: number;
  meanDelay: number | null;
}

interface Row {
  detector: string;
  falseAlarms: number;
  stationaryRows: number;
  falseAlarmsPer10k: number;
  changes: ChangeResult[];
}

function measure({ name, method, mode }: Detector): Row {
  const settings: DetectSettings = mode
    ? { ...DEFAULT_DETECT_SETTINGS, detection: { ...DEFAULT_DETECT_SETTINGS.detection, errorRateMode: mode } }
    : DEFAULT_DETECT_SETTINGS;
  const alarms = (errors: Uint8Array) => alarmsOn(errors, method, WINDOW, 'row', settings);
  let falseAlarms = 0;
  for (let seed = 1; seed <= seeds; seed++) falseAlarms += alarms(bernoulliErrors(STATIONARY, seed)).length;
  const changes = CHANGES.map((change, c): ChangeResult => {
    const delays: number[] = [];
    // Seeds apart from the stationary ones (and per change), so the measurements are independent.
    const first = 1_000_000 * (c + 1);
    for (let seed = first; seed < first + changeSeeds; seed++) {
      const at = alarms(bernoulliErrors(change, seed)).find((row) => row > change.change);
      if (at !== undefined) delays.push(at - change.change);
    }
    return {
      label: change.label,
      caught: delays.length,
      of: changeSeeds,
      meanDelay: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
    };
  });
  const stationaryRows = seeds * STATIONARY.length;
  return {
    detector: name,
    falseAlarms,
    stationaryRows,
    falseAlarmsPer10k: (falseAlarms * 10_000) / stationaryRows,
    changes,
  };
}

const started = Date.now();
const rows: Row[] = [];
for (const detector of DETECTORS) {
  const r = measure(detector);
  rows.push(r);
  const delays = r.changes
    .map((c) => `${c.label} ${c.caught}/${c.of} in ${c.meanDelay?.toFixed(0) ?? '-'}`)
    .join('; ');
  process.stderr.write(
    `[${Math.round((Date.now() - started) / 1000)}s] ${r.detector}: ${r.falseAlarms} false alarms in ${r.stationaryRows.toLocaleString('en')} rows; ${delays}\n`,
  );
}
const seconds = Math.round((Date.now() - started) / 1000);
fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
fs.writeFileSync(
  RESULTS,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), seconds, seeds, changeSeeds, window: WINDOW, rows }, null, 2)}\n`,
);

const cell = (c: ChangeResult) =>
  `${c.meanDelay?.toFixed(0) ?? '–'}${c.caught < c.of ? ` (${c.caught}/${c.of})` : ''}`;
const section = `## Error-stream trade-off

Command: \`npm run bench:error-tradeoff\` (bench/error-tradeoff.ts, ${seconds} s): false alarms on ${seeds.toLocaleString('en')} stationary
0/1 error streams of 50,000 rows (rate 0.10; ${(seeds * STATIONARY.length).toLocaleString('en')} rows in all), and the mean delay in rows
to each of the issue's orientation changes (at row 5,000, or after 50,000 stable rows; ${changeSeeds} other seeds each; all
caught unless said), for detect's two error-rate modes (windows of ${WINDOW} labelled rows) beside default ADWIN and
Page–Hinkley.

| detector | false alarms | per 10k rows | ${CHANGES.map((c) => c.label).join(' | ')} |
|---|---|---|${CHANGES.map(() => '---|').join('')}
${rows.map((r) => `| ${r.detector} | ${r.falseAlarms} | ${r.falseAlarmsPer10k.toFixed(4)} | ${r.changes.map(cell).join(' | ')} |`).join('\n')}
`;
writeBenchmarkSection(section, { before: '## Sequential detectors' });
