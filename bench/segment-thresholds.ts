// The segment finding's two thresholds (lib/brain/findings/segment.ts SEGMENT_DEFAULTS), chosen on the
// autonomy benchmark's DEVELOPMENT seeds of its segment families: `segmentBaselineRows` (labelled rows of
// a segment's own healthy windows before it is judged) and `segmentMaxBrokenShare` (more broken
// segments than this share of those tested is the whole model's failure). Each case's accepted responses
// are settled once (lib/bench/autonomy/run-case.ts runCase); then every candidate pair replays every case
// through the backtest with the default policy and the case's segments, and is scored on the right
// response, false incidents and actions, and detection delay. Held-out seeds are never read here:
// `npm run bench:autonomy -- --families segment-one-segment,...` reports on them.
//
//   node --import tsx bench/segment-thresholds.ts                 (4 development rounds, the committed run)
//   node --import tsx bench/segment-thresholds.ts --rounds 2 --out /tmp/sweep.json
//
// The thresholds are constants of the rule, not policy: this process sets them in place for each
// candidate, as nothing else runs in it. Writes bench/results/segment-thresholds.json; progress on stderr.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { actionsTaken, responseClass, runAgent } from '../lib/bench/autonomy/agent.ts';
import type { ResponseClass } from '../lib/bench/autonomy/case.ts';
import { planCases } from '../lib/bench/autonomy/cases.ts';
import { caseSetup, changeTime, runCase } from '../lib/bench/autonomy/run-case.ts';
import { SEGMENT_DEFAULTS } from '../lib/brain/findings/segment.ts';

export const SEGMENT_FAMILIES = ['segment-one-segment', 'segment-whole-population', 'segment-stationary'];
const BASELINE_ROWS = [100, 200, 400, 800];
const MAX_BROKEN_SHARES = [1 / 3, 1 / 2, 2 / 3];

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    out: { type: 'string', default: path.join(import.meta.dirname, 'results', 'segment-thresholds.json') },
  },
});
const started = performance.now();
const plan = planCases('development', Number(values.rounds), SEGMENT_FAMILIES);
const cases = [];
for (const p of plan) {
  const c = p.build();
  const { expected, expectedBecause, replayedRows } = await runCase(c);
  cases.push({ c, setup: await caseSetup(c), expected, expectedBecause, replayedRows });
  process.stderr.write(`${p.id}: expected ${expected.join('|')} (${expectedBecause})\n`);
}

const defaults = { ...SEGMENT_DEFAULTS };
const thresholds = SEGMENT_DEFAULTS as { -readonly [K in keyof typeof SEGMENT_DEFAULTS]: number };
const candidates = [];
for (const segmentBaselineRows of BASELINE_ROWS) {
  for (const segmentMaxBrokenShare of MAX_BROKEN_SHARES) {
    Object.assign(thresholds, { segmentBaselineRows, segmentMaxBrokenShare });
    const runs: {
      id: string;
      family: string;
      response: ResponseClass;
      right: boolean;
      replayedRows: number;
      incidents: number;
      actions: number;
      detectionDelaySeconds: number | null;
    }[] = [];
    for (const { c, setup, expected, replayedRows } of cases) {
      const { report } = await runAgent(setup.stream, setup.first, setup.fallback, setup.segments);
      const changeTs = changeTime(c, setup.stream);
      const quiet = expected.length === 1 && expected[0] === 'none';
      const response: ResponseClass = responseClass(report, changeTs);
      const opened = report.incidents.map((i) => Date.parse(i.openedAt)).filter((t) => t >= changeTs);
      runs.push({
        id: c.id,
        family: c.family,
        response,
        right: expected.includes(response),
        replayedRows,
        ...actionsTaken(report, quiet ? Number.POSITIVE_INFINITY : changeTs),
        detectionDelaySeconds: opened.length === 0 ? null : (Math.min(...opened) - changeTs) / 1000,
      });
    }
    const perM = (n: number, rs: typeof runs) => (n * 1e6) / rs.reduce((a, r) => a + r.replayedRows, 0);
    const byFamily = Object.fromEntries(
      SEGMENT_FAMILIES.map((f) => {
        const rs = runs.filter((r) => r.family === f);
        return [f, { right: rs.filter((r) => r.right).length, cases: rs.length }];
      }),
    );
    const candidate = {
      segmentBaselineRows,
      segmentMaxBrokenShare: +segmentMaxBrokenShare.toFixed(3),
      right: runs.filter((r) => r.right).length,
      cases: runs.length,
      byFamily,
      falseIncidentsPerMillionRows: perM(
        runs.reduce((a, r) => a + r.incidents, 0),
        runs,
      ),
      falseActionsPerMillionRows: perM(
        runs.reduce((a, r) => a + r.actions, 0),
        runs,
      ),
      runs,
    };
    candidates.push(candidate);
    process.stderr.write(
      `baseline ${segmentBaselineRows}, share ${segmentMaxBrokenShare.toFixed(2)}: ${candidate.right}/${candidate.cases} right ${JSON.stringify(byFamily)}, false incidents ${candidate.falseIncidentsPerMillionRows.toFixed(0)} / actions ${candidate.falseActionsPerMillionRows.toFixed(0)} per M rows\n`,
    );
  }
}
Object.assign(thresholds, defaults);

fs.writeFileSync(
  values.out,
  `${JSON.stringify(
    {
      command: `node --import tsx bench/segment-thresholds.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
      set: 'development',
      families: SEGMENT_FAMILIES,
      wallSeconds: Math.round((performance.now() - started) / 1000),
      cases: cases.map(({ c, expected, expectedBecause }) => ({
        id: c.id,
        seed: c.seed,
        description: c.description,
        expected,
        expectedBecause,
      })),
      candidates,
    },
    null,
    2,
  )}\n`,
);
process.stderr.write(`wrote ${values.out}\n`);
