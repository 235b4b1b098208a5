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
import type { BenchCase, ResponseClass } from '../lib/bench/autonomy/case.ts';
import { planCases } from '../lib/bench/autonomy/cases.ts';
import { caseSetup, changeTime, runCase } from '../lib/bench/autonomy/run-case.ts';
import { SEGMENT_DEFAULTS } from '../lib/brain/findings/segment.ts';

export const SEGMENT_FAMILIES = ['segment-one-segment', 'segment-whole-population', 'segment-stationary'];
/**
 * Candidates (segmentBaselineRows/segmentMaxBrokenShare): each threshold moved from 200 and 1/2 with the
 * other held, one at a time (a full grid is several times the replays for little more); a share of 1
 * never hands a fall to the whole-window rules.
 */
const CANDIDATES = '200/0.5,50/0.5,100/0.5,400/0.5,800/0.5,200/0.25,200/0.333,200/0.667,200/1';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    candidates: { type: 'string', default: CANDIDATES },
    /** A previous run's results: its cases' accepted responses are taken from it instead of settled again. */
    'expected-from': { type: 'string' },
    out: { type: 'string', default: path.join(import.meta.dirname, 'results', 'segment-thresholds.json') },
  },
});
const grid = values.candidates.split(',').map((c) => c.split('/').map(Number) as [number, number]);
const started = performance.now();
const plan = planCases('development', Number(values.rounds), SEGMENT_FAMILIES);
const cases: {
  c: BenchCase;
  setup: Awaited<ReturnType<typeof caseSetup>>;
  expected: ResponseClass[];
  expectedBecause: string;
  replayedRows: number;
}[] = [];
const settled = new Map<string, { expected: ResponseClass[]; expectedBecause: string }>(
  values['expected-from']
    ? JSON.parse(fs.readFileSync(values['expected-from'], 'utf8')).cases.map(
        (k: { id: string; expected: ResponseClass[]; expectedBecause: string }) => [k.id, k],
      )
    : [],
);
for (const p of plan) {
  const c = p.build();
  const { expected, expectedBecause } = settled.get(c.id) ?? (await runCase(c));
  const replayedRows = c.rows.length - c.referenceRows;
  cases.push({ c, setup: await caseSetup(c), expected, expectedBecause, replayedRows });
  process.stderr.write(`${p.id}: expected ${expected.join('|')} (${expectedBecause})\n`);
}

function write() {
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
}

const defaults = { ...SEGMENT_DEFAULTS };
const thresholds = SEGMENT_DEFAULTS as { -readonly [K in keyof typeof SEGMENT_DEFAULTS]: number };
const candidates: object[] = [];
for (const [segmentBaselineRows, segmentMaxBrokenShare] of grid) {
  {
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
      /** Windows that flagged the changed segment after its change, and windows that flagged another. */
      segmentFlags: number;
      falseSegmentFlags: number;
      segmentFlagDelaySeconds: number | null;
    }[] = [];
    for (const { c, setup, expected, replayedRows } of cases) {
      const { report } = await runAgent(setup.stream, setup.first, setup.fallback, setup.segments);
      const changeTs = changeTime(c, setup.stream);
      const quiet = expected.length === 1 && expected[0] === 'none';
      const response: ResponseClass = responseClass(report, changeTs);
      const opened = report.incidents.map((i) => Date.parse(i.openedAt)).filter((t) => t >= changeTs);
      // Windows whose segment finding names a broken segment: the changed one after the change, or any
      // other (a segment that did not change alone, or before the change).
      const changed = c.change.kind === 'concept' ? c.change.segment : undefined;
      const flags = report.windows.flatMap((w) =>
        w.findings.flatMap((f) =>
          f.kind === 'segment' && f.evidence.segment !== null
            ? [
                {
                  at: Date.parse(w.endAt),
                  right: f.evidence.segment === changed && Date.parse(w.endAt) >= changeTs,
                },
              ]
            : [],
        ),
      );
      const firstRight = flags.find((f) => f.right);
      runs.push({
        id: c.id,
        family: c.family,
        response,
        right: expected.includes(response),
        replayedRows,
        ...actionsTaken(report, quiet ? Number.POSITIVE_INFINITY : changeTs),
        detectionDelaySeconds: opened.length === 0 ? null : (Math.min(...opened) - changeTs) / 1000,
        segmentFlags: flags.filter((f) => f.right).length,
        falseSegmentFlags: flags.filter((f) => !f.right).length,
        segmentFlagDelaySeconds: firstRight ? (firstRight.at - changeTs) / 1000 : null,
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
      segmentFlags: runs.reduce((a, r) => a + r.segmentFlags, 0),
      falseSegmentFlags: runs.reduce((a, r) => a + r.falseSegmentFlags, 0),
      oneSegmentCasesFlagged: runs.filter((r) => r.segmentFlagDelaySeconds !== null).length,
      falseActionsPerMillionRows: perM(
        runs.reduce((a, r) => a + r.actions, 0),
        runs,
      ),
      runs,
    };
    candidates.push(candidate);
    // After every candidate: a run stopped early keeps what it measured.
    write();
    process.stderr.write(
      `baseline ${segmentBaselineRows}, share ${segmentMaxBrokenShare.toFixed(2)}: ${candidate.right}/${candidate.cases} right ${JSON.stringify(byFamily)}, segment flags ${candidate.segmentFlags} right (${candidate.oneSegmentCasesFlagged} cases) / ${candidate.falseSegmentFlags} false, false incidents ${candidate.falseIncidentsPerMillionRows.toFixed(0)} / actions ${candidate.falseActionsPerMillionRows.toFixed(0)} per M rows\n`,
    );
  }
}
Object.assign(thresholds, defaults);
process.stderr.write(`wrote ${values.out}\n`);
