// Golden run of the agent's judgement, to prove that a refactoring of detect and decide changes no
// behaviour: every simulator scenario on its demo models, several seeds, cut into windows of two sizes
// and measured by the monitor's own measureWindow (bench/detection.ts); each window through detect under
// two policies, each finding's evidence strength, every kind's verification baseline, and decide in a
// small loop that opens, carries and closes incidents plus a few fixed situations (collapse shielded, an
// incident after a failed retrain, no deployment). The output is JSON, one line per window; compare
// two runs byte for byte.
//
//   node --import tsx scripts/brain-golden.ts --seeds 20 --windows /tmp/windows.json --out /tmp/golden.jsonl
//
// Measuring windows takes most of the time, so they are cached in --windows (built when absent).
import fs from 'node:fs';
import { prepareModel, scenarioRows } from '../bench/detection.ts';
import { baselineFor } from '../lib/brain/baseline.ts';
import type { DeploymentFacts } from '../lib/brain/contracts.ts';
import { type DecisionContext, decide, evidenceStrength } from '../lib/brain/decide.ts';
import { detect, detectSettings, initialDetectorState } from '../lib/brain/detect.ts';
import type {
  DetectorState,
  Finding,
  OpenIncident,
  RemedyAttempt,
  RemedyRecord,
  WindowSummary,
} from '../lib/brain/types.ts';
import { FINDING_KINDS } from '../lib/domain.ts';
import type { WindowPrediction } from '../lib/monitor/index.ts';
import { measureWindow } from '../lib/monitor/measure.ts';
import { DEFAULT_POLICY, type Policy, parsePolicy } from '../lib/policy/policy.ts';
import { creditDefault, demand } from '../lib/sim/demo-models.ts';
import { SCENARIOS } from '../lib/sim/scenarios.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const SEEDS = Number(arg('seeds', '20'));
const WINDOWS_FILE = arg('windows', '/tmp/brain-golden-windows.json');
const OUT = arg('out', '/tmp/brain-golden.jsonl');
const WINDOW_SECONDS = [30, 100];

type Stream = { id: string; windows: WindowSummary[] };

async function measureStreams(): Promise<Stream[]> {
  const streams: Stream[] = [];
  for (const demo of [creditDefault, demand]) {
    const model = await prepareModel(demo);
    for (const scenario of SCENARIOS.filter((s) => s.models.includes(demo.name))) {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const rows = await scenarioRows(model, scenario, seed);
        for (const seconds of WINDOW_SECONDS) {
          const start = rows[0]!.prediction.receivedAt.getTime() - 1;
          const lastMs = rows.at(-1)!.prediction.receivedAt.getTime();
          const byLabel = rows
            .filter((r) => r.labelAt !== null)
            .sort((a, b) => a.labelAt!.getTime() - b.labelAt!.getTime());
          const windows: WindowSummary[] = [];
          let a = 0;
          let l = 0;
          let previousArrival: Date | null = null;
          for (let seq = 0; start + (seq + 1) * seconds * 1000 <= lastMs; seq++) {
            const from = start + seq * seconds * 1000;
            const to = from + seconds * 1000;
            const arrivals: WindowPrediction[] = [];
            while (a < rows.length && rows[a]!.prediction.receivedAt.getTime() <= to) {
              const r = rows[a++]!;
              arrivals.push(
                r.labelAt !== null && r.labelAt.getTime() <= to
                  ? r.prediction
                  : { ...r.prediction, label: null },
              );
            }
            const labelled: WindowPrediction[] = [];
            while (l < byLabel.length && byLabel[l]!.labelAt!.getTime() <= to)
              labelled.push(byLabel[l++]!.prediction);
            const { summary } = measureWindow({
              seq,
              schema: model.demo.schema,
              task: model.demo.task,
              labels: model.labels,
              reference: model.reference,
              arrivals,
              labelledInWindow: labelled,
              previousArrival,
              startAt: new Date(from),
              endAt: new Date(to),
              minRows: DEFAULT_POLICY.window.minRows,
            });
            if (arrivals.length > 0) previousArrival = arrivals.at(-1)!.receivedAt;
            windows.push(summary);
          }
          streams.push({ id: `${demo.name}/${scenario.id}/${seed}/${seconds}s`, windows });
        }
        process.stderr.write(`measured ${demo.name} ${scenario.id} seed ${seed}\n`);
      }
    }
  }
  return streams;
}

function policyOf(input: unknown): Policy {
  const parsed = parsePolicy(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.policy;
}

const POLICIES: { name: string; policy: Policy }[] = [
  { name: 'default', policy: policyOf({}) },
  {
    name: 'strict',
    policy: policyOf({
      detection: {
        errorRateMode: 'conservative',
        persistence: { confirmM: 1, confirmN: 1, clearAfter: 3 },
        minEffect: { accuracyDrop: 0.03, psi: 0.1 },
      },
      floors: { accuracy: 0.8, failureRate: 0.05 },
      confidence: { alertAbove: 0.6, actAbove: 0.7 },
      approvals: { retrain: { mode: 'approve' } },
      ladders: { data_drift: ['fallback', 'retrain'], latency: ['fallback', 'disable'] },
    }),
  },
];

function deployment(task: WindowSummary['task'], changedAt: number, over: Partial<DeploymentFacts> = {}) {
  return {
    task: task ?? 'binary',
    revision: 3,
    mode: 'serving',
    productionVersion: 2,
    fallbackVersion: 1,
    canaryVersion: null,
    canaryShare: 0,
    shadowVersion: null,
    changedAt,
    changedBy: 'human:release',
    lastKnownGoodRevision: 1,
    ...over,
  } satisfies DeploymentFacts;
}

/** The outcome a simulated remedy gets, varied by cycle so every path after it is walked. */
function outcomeOf(cycle: number, action: string): RemedyAttempt {
  const outcomes: RemedyAttempt['outcome'][] = ['recovered', 'not_recovered', 'failed', 'rejected'];
  const protective = action === 'fallback' || action === 'disable';
  return {
    action: action as RemedyAttempt['action'],
    at: 0,
    outcome: protective && cycle % 2 === 0 ? 'protected' : outcomes[cycle % outcomes.length]!,
    detail: `simulated at ${cycle}`,
    ...(action === 'retrain' && cycle % 3 === 0 ? { bestAvailable: true } : {}),
  };
}

function run(stream: Stream, policyName: string, policy: Policy, out: fs.WriteStream) {
  const settings = detectSettings(policy);
  let state: DetectorState = initialDetectorState();
  let incident: OpenIncident | null = null;
  const remedies: RemedyRecord[] = [];
  const first = Date.parse(stream.windows[0]?.startAt ?? '2025-01-01T00:00:00Z');
  let windows = 0;
  stream.windows.forEach((window, cycle) => {
    const now = Date.parse(window.endAt);
    const result = detect(window, state, settings);
    const before = state;
    state = result.state;
    const findings: Finding[] = result.findings;
    const base: DecisionContext = {
      findings,
      policy,
      now,
      cycle,
      openIncident: incident,
      deployment: deployment(window.task, first + (cycle > 20 ? 20_000 : 0)),
      remedies,
      remedyInProgress: false,
      windowStart: Date.parse(window.startAt),
    };
    const loop = decide(base);
    if (loop.incident && 'open' in loop.incident) {
      incident = {
        id: `i${cycle}`,
        kind: loop.incident.open.kind,
        openedAtCycle: cycle,
        severity: loop.incident.open.severity,
        openedAt: now,
        onsetAt: window.startAt,
        status: 'open',
        attempts: [],
        baseline: baselineFor(loop.incident.open.kind, before, window),
      };
    } else if (loop.incident && 'close' in loop.incident) incident = null;
    if (incident && loop.escalate) incident = { ...incident, status: 'escalated' };
    if (['rollback', 'retrain', 'fallback', 'disable'].includes(loop.action)) {
      remedies.push({ action: loop.action as RemedyRecord['action'], at: now });
      if (incident)
        incident = { ...incident, attempts: [...(incident.attempts ?? []), outcomeOf(cycle, loop.action)] };
    }
    // Acknowledged after a while: the loop keeps exercising the open-incident rules.
    if (incident?.status === 'escalated' && cycle % 5 === 0) incident = null;
    const fixed = [
      decide({ ...base, deployment: deployment(window.task, first, { mode: 'fallback' }) }),
      decide({ ...base, deployment: null }),
      decide({ ...base, openIncident: null, deployment: deployment(window.task, now - 60_000) }),
      ...findings.map((f) =>
        decide({
          ...base,
          openIncident: {
            id: 'fixed',
            kind: f.kind,
            openedAtCycle: 0,
            openedAt: first,
            severity: 'warning',
            baseline: null,
            status: 'open',
            onsetAt: window.startAt,
            attempts: [
              {
                action: 'retrain',
                at: now - 1000,
                outcome: 'not_recovered',
                detail: 'short',
                bestAvailable: true,
              },
            ],
          },
        }),
      ),
    ];
    out.write(
      `${JSON.stringify({
        stream: stream.id,
        policy: policyName,
        seq: window.seq,
        findings,
        strengths: findings.map((f) => evidenceStrength(f, policy)),
        baselines: FINDING_KINDS.map((k) => baselineFor(k, state, window)),
        state,
        loop,
        fixed,
      })}\n`,
    );
    windows++;
  });
  return windows;
}

async function main() {
  let streams: Stream[];
  if (fs.existsSync(WINDOWS_FILE)) streams = JSON.parse(fs.readFileSync(WINDOWS_FILE, 'utf8'));
  else {
    streams = await measureStreams();
    fs.writeFileSync(WINDOWS_FILE, JSON.stringify(streams));
  }
  const out = fs.createWriteStream(OUT);
  let windows = 0;
  for (const stream of streams)
    for (const { name, policy } of POLICIES) windows += run(stream, name, policy, out);
  await new Promise<void>((resolve) => out.end(resolve));
  console.log(`${streams.length} streams, ${windows} windows judged → ${OUT}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
