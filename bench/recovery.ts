// Recovery benchmark: every simulator scenario, over several seeds, end to end on the real agent — the
// same harness as test/workflow/scenarios.test.ts (a time-skipping Temporal server with the real worker
// and activities, a SQLite store, the in-process API's gateway and label endpoint). It scores what the
// agent did against each scenario's `expected` response:
// - recoverable scenarios (the expected response is a remedy): the share of incidents recovered to
//   within 2 % of the pre-failure baseline without a human (lib/sim/recovery-goal.ts: 0.02 absolute for
//   accuracy and rates, 10 % for RMSE, 10 % or two healthy-window spreads for p95 latency);
// - time to detection (first confirmed finding) and to recovery, in windows of one simulated minute;
// - false actions on noise scenarios (expected response 'none'): any remedy or escalation (an incident
//   that only alerts is counted apart, as a false alert);
// - unrecoverable scenarios (expected 'escalate'): the share escalated with a delivered, signed webhook
//   (a remedy tried first, such as a retrain that finds no better model, does not count against it).
// Goals: ≥ 95 % recovered, 0 false actions, 100 % escalated.
//
//   npm run bench:recovery                           (3 seeds, every scenario)
//   npm run bench:recovery -- --seeds 1 --scenarios steady,concept-drift
//
// Writes bench/results/recovery.json and the "## Recovery" section of docs/benchmarks.md. Progress goes
// to stderr, one line per scenario run.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EGRESS_ALLOW_ENV } from '../lib/net/egress.ts';
import { type ExpectedResponse, SCENARIOS } from '../lib/sim/scenarios.ts';
import { describeRun, runIsolated, type ScenarioRunResult } from '../test/helpers/scenario-run.ts';
import { writeBenchmarkSection } from './doc-section.ts';

const ROOT = path.join(import.meta.dirname, '..');
// The harness's model servers and webhook receiver listen on loopback, which the egress policy refuses
// unless allowed (lib/net/egress.ts).
process.env[EGRESS_ALLOW_ENV] = '127.0.0.1';
const RESULTS = path.join(ROOT, 'bench', 'results', 'recovery.json');
const REMEDIES: readonly ExpectedResponse[] = ['rollback', 'retrain', 'fallback', 'disable'];
const GOALS = { recovered: 0.95, falseActions: 0, escalated: 1 };

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '3' }, scenarios: { type: 'string' } },
});
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i + 1);
const wanted = values.scenarios?.split(',');
const scenarios = SCENARIOS.filter((s) => !wanted || wanted.includes(s.id));

type Run = Omit<ScenarioRunResult, 'history' | 'children'> & { error?: string };

const kindOf = (response: ExpectedResponse) =>
  REMEDIES.includes(response)
    ? 'recoverable'
    : response === 'escalate'
      ? 'unrecoverable'
      : response === 'none'
        ? 'noise'
        : 'alert-only';

/** Recovered to within tolerance, by the agent alone. */
const recovered = (r: Run) =>
  r.incident?.status === 'recovered' && r.withinTolerance === true && !r.acknowledged;
/** Something the agent did to a healthy model: a remedy or an escalation. */
const falseAction = (r: Run) =>
  r.actions.some((a) => REMEDIES.includes(a.type as ExpectedResponse) || a.type === 'escalate');
/** An incident opened on healthy traffic (an alert, no action). */
const falseAlert = (r: Run) => r.incidents + r.warmupIncidents > 0;
const escalated = (r: Run) =>
  (r.incident?.status === 'escalated' || r.acknowledged) &&
  r.escalations.delivered > 0 &&
  r.escalations.verified === r.escalations.delivered;
/**
 * The response the scenario expects; an escalation counts however the agent got there, and so does an
 * alert when the agent tried a retrain and took the new level as the baseline (nothing deployed).
 */
const responseMatched = (r: Run) =>
  r.response === r.expected.response ||
  (r.expected.response === 'escalate' && escalated(r)) ||
  (r.expected.response === 'alert' && r.incident?.status === 'rebaselined');

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function share(runs: Run[], ok: (r: Run) => boolean) {
  return {
    ok: runs.filter(ok).length,
    of: runs.length,
    share: runs.length ? runs.filter(ok).length / runs.length : null,
  };
}

const runs: Run[] = [];
const started = Date.now();
for (const scenario of scenarios) {
  for (const seed of seeds) {
    const t0 = Date.now();
    try {
      const { history: _history, children: _children, ...run } = await runIsolated(scenario, { seed });
      runs.push(run);
      process.stderr.write(
        `${scenario.id} seed ${seed}: ${run.response} (expected ${scenario.expected.response}); incident ${run.incident?.status ?? 'none'}; detection ${run.detectionWindows ?? '-'} / recovery ${run.recoveryWindows ?? '-'} windows; ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
      );
      if (process.env.BENCH_VERBOSE === '1')
        process.stderr.write(`${describeRun({ ...run, history: {}, children: [] })}\n`);
    } catch (error) {
      process.stderr.write(`${scenario.id} seed ${seed}: harness error ${String(error)}\n`);
      runs.push({ scenario: scenario.id, seed, error: String(error) } as Run);
    }
  }
}

const completed = runs.filter((r) => !r.error);
const byKind = (kind: string) => completed.filter((r) => kindOf(r.expected.response) === kind);
const recoverable = byKind('recoverable');
const noise = byKind('noise');
const unrecoverable = byKind('unrecoverable');
const alertOnly = byKind('alert-only');
const summary = {
  recovered: share(recoverable, recovered),
  /** ...and no new incident opened in the windows after (a fix that is then undone does not count). */
  recoveredAndStayed: share(recoverable, (r) => recovered(r) && r.incidents === 1),
  falseActionsOnNoise: noise.filter(falseAction).length,
  falseAlertsOnNoise: noise.filter(falseAlert).length,
  noiseRuns: noise.length,
  escalated: share(unrecoverable, escalated),
  alertOnlyActedOn: alertOnly.filter((r) =>
    r.actions.some((a) => REMEDIES.includes(a.type as ExpectedResponse)),
  ).length,
  alertOnlyRuns: alertOnly.length,
  responseMatched: share(completed, responseMatched),
  medianDetectionWindows: median(
    completed.filter((r) => kindOf(r.expected.response) !== 'noise').flatMap((r) => r.detectionWindows ?? []),
  ),
  medianRecoveryWindows: median(recoverable.filter(recovered).flatMap((r) => r.recoveryWindows ?? [])),
  harnessErrors: runs.length - completed.length,
};
const goals = {
  recovered: (summary.recovered.share ?? 0) >= GOALS.recovered,
  falseActions: summary.falseActionsOnNoise === GOALS.falseActions,
  escalated: (summary.escalated.share ?? 0) >= GOALS.escalated,
};

const perScenario = scenarios.map((s) => {
  const rs = completed.filter((r) => r.scenario === s.id);
  return {
    scenario: s.id,
    expected: s.expected.response,
    class: kindOf(s.expected.response),
    runs: rs.length,
    responses: rs.map((r) => r.response),
    incidentStatus: rs.map((r) => r.incident?.status ?? 'none'),
    detectionWindows: rs.map((r) => r.detectionWindows),
    recoveryWindows: rs.map((r) => r.recoveryWindows),
    withinTolerance: rs.map((r) => r.withinTolerance),
  };
});

fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
fs.writeFileSync(
  RESULTS,
  `${JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - started) / 1000),
      seeds,
      goals: { targets: GOALS, met: goals },
      summary,
      perScenario,
      runs,
    },
    null,
    2,
  )}\n`,
);

const pct = (x: { ok: number; of: number; share: number | null }) =>
  x.share === null ? 'n/a' : `${(x.share * 100).toFixed(0)} % (${x.ok} of ${x.of})`;
const met = (ok: boolean) => (ok ? 'met' : '**not met**');
const cell = (xs: (number | string | boolean | null)[]) => xs.map((x) => x ?? '–').join(', ');
const section = `## Recovery

\`npm run bench:recovery\` (bench/recovery.ts): every simulator scenario over seeds ${seeds.join(', ')}, end to
end on the real agent — time-skipping Temporal server, real worker and activities, SQLite store, traffic
through the in-process gateway and label endpoint, one simulated minute per window (the harness in
test/helpers/scenario-run.ts; docs/failure-scenarios.md describes each scenario). A scenario is
recoverable when its expected response is a remedy; test/unit/sim-recoverability.test.ts checks that the
world-changing ones really are (a refit reaches the baseline) or really are not. Latest run:
${new Date().toISOString().slice(0, 10)}, ${Math.round((Date.now() - started) / 60_000)} min.

| goal | result | |
|---|---|---|
| recoverable incidents recovered to within 2 % of the pre-failure baseline (0.02 absolute; 10 % for RMSE; p95 latency within 10 % or two healthy-window sds), no human | ${pct(summary.recovered)} | ≥ 95 %: ${met(goals.recovered)} |
| ...and stayed recovered (no new incident in the two windows after) | ${pct(summary.recoveredAndStayed)} | |
| false actions (a remedy or an escalation) on noise scenarios (steady, noise-blip) | ${summary.falseActionsOnNoise} of ${summary.noiseRuns} runs | 0: ${met(goals.falseActions)} |
| false alerts (an incident, no action) on noise scenarios | ${summary.falseAlertsOnNoise} of ${summary.noiseRuns} runs | |
| unrecoverable incidents escalated (signed webhook delivered) | ${pct(summary.escalated)} | 100 %: ${met(goals.escalated)} |
| alert-only scenarios where the agent took a remedy anyway | ${summary.alertOnlyActedOn} of ${summary.alertOnlyRuns} runs | |
| response as expected (all scenarios) | ${pct(summary.responseMatched)} | |
| median time to detection / to recovery | ${summary.medianDetectionWindows ?? 'n/a'} / ${summary.medianRecoveryWindows ?? 'n/a'} windows (simulated minutes) | |
${summary.harnessErrors ? `\n${summary.harnessErrors} run(s) ended in a harness error (see the JSON).\n` : ''}
| scenario | expected | responses | incident | detection (windows) | recovery (windows) | within tolerance |
|---|---|---|---|---|---|---|
${perScenario
  .map(
    (s) =>
      `| ${s.scenario} | ${s.expected} | ${cell(s.responses)} | ${cell(s.incidentStatus)} | ${cell(s.detectionWindows)} | ${cell(s.recoveryWindows)} | ${cell(s.withinTolerance)} |`,
  )
  .join('\n')}

Full runs (decisions, remedy attempts and outcomes, every Action row): bench/results/recovery.json.
Where a run falls short of its scenario's expectation, and why: docs/failure-scenarios.md, "What the runs
show today".
`;

writeBenchmarkSection(section);
process.stderr.write(
  `recovered ${pct(summary.recovered)}; false actions ${summary.falseActionsOnNoise}, false alerts ${summary.falseAlertsOnNoise}; escalated ${pct(summary.escalated)}\n`,
);
process.exit(0);
