// Writes bench/results/chaos.json and the "## Chaos" section of docs/benchmarks.md from it: every number in
// the section comes from that file, none is typed by hand. bench/chaos.ts calls it after a run;
// `node --import tsx bench/chaos-report.ts` rewrites the section from the committed JSON.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Invariant, Violation } from '../lib/bench/chaos-invariants.ts';
import { REPO_ROOT } from '../lib/db/config.ts';
import type { FaultKind } from './chaos-stack.ts';
import { writeBenchmarkSection } from './doc-section.ts';

export const CHAOS_RESULTS = path.join(REPO_ROOT, 'bench', 'results', 'chaos.json');

export interface ChaosJson {
  generatedAt: string;
  command: string;
  machine: {
    cpus: number;
    cpu: string;
    node: string;
    loadAverage: { start: number[]; end: number[] };
  };
  setup: {
    database: string;
    cycleInterval: string;
    predictionsPerSecond: number;
    maxOutageMs: number;
    secondFaultChance: number;
    /** Share of rounds aimed at the plain monitoring loop. */
    monitoringShare: number;
    /** A round aims at each remedy step with at most this many faults more than the least faulted one. */
    aimSlack: number;
    /** How long a round waited for a step it aimed at before faulting whatever was in flight. */
    remedyWaitSeconds: number;
    /** Per step, the longest delay between seeing the agent in it and the kill. */
    killWithinMs: Record<string, number>;
    /** The candidate rows a canary waits for (the demo's policy otherwise): how long the canary lasts. */
    canaryMinRows: number;
  };
  wallSeconds: number;
  rounds: number;
  faults: {
    total: number;
    byKind: Record<FaultKind, number>;
    /** By the step the agent's status named last before the kill. */
    byPoint: Record<string, number>;
    /** Rounds that aimed at each step (a round aims at several). */
    roundsAimedAt: Record<string, number>;
  };
  unexpectedExits: Record<FaultKind, number>;
  resume: { samples: number; p50Seconds: number | null; maxSeconds: number | null };
  acknowledgedPredictions: number;
  /** The model's incidents by status at the end. */
  incidents: Record<string, number>;
  settle: { settled: boolean; seconds: number; unauditedAtEnd: number };
  violations: {
    total: number;
    byInvariant: Record<Invariant, number>;
    first: (Violation & { round: number })[];
  };
}

const INVARIANT_TEXT: Record<Invariant, string> = {
  'prediction-stored-once': 'each acknowledged prediction stored exactly once',
  'one-candidate-per-retrain-key': 'one candidate per retrain key',
  'deployment-change-audited-once': 'each deployment change with exactly one audit row',
  'audit-chain-verifies': 'the audit chain verifies',
  'incident-has-outcome': 'no incident without an outcome once the run settles',
  'agent-resumed': 'the agent resumed (a cycle completed) after every round',
};

const seconds = (x: number | null) => (x === null ? '–' : `${x.toFixed(1)} s`);

/** The remedy steps the issue names, each to be hit by faults in flight. */
export const REMEDY_STEPS = ['retrain', 'canary', 'rollback', 'fallback', 'restore', 'verify'] as const;
/** The faults a run should land in each remedy step. */
export const FAULTS_PER_STEP_GOAL = 3;
const short = (byPoint: Record<string, number>) => {
  const few = REMEDY_STEPS.filter((step) => (byPoint[step] ?? 0) < FAULTS_PER_STEP_GOAL);
  return few.length === 0
    ? `every remedy step took at least ${FAULTS_PER_STEP_GOAL} faults`
    : `fewer than ${FAULTS_PER_STEP_GOAL} faults landed during: ${few.join(', ')}`;
};

const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

export function renderChaosSection(r: ChaosJson): string {
  const violations =
    r.violations.first.length === 0
      ? ''
      : `\n\nViolations (first ${r.violations.first.length}):\n\n${r.violations.first
          .map((v) => `- round ${v.round}, ${v.invariant}: ${v.detail}`)
          .join('\n')}`;
  const exits = Object.values(r.unexpectedExits).reduce((a, b) => a + b, 0);
  const killWithin = Object.entries(r.setup.killWithinMs)
    .map(([step, ms]) => `${step} ${ms} ms`)
    .join(', ');
  return `## Chaos (issue 15)

Command: \`${r.command}\` (${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC; ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}; ${r.wallSeconds} s; load average ${r.machine.loadAverage.start.join(', ')} at the start, ${r.machine.loadAverage.end.join(', ')} at the end, the machine shared with other work). Written from \`bench/results/chaos.json\` by bench/chaos-report.ts.

The demo's failure schedule (lib/sim/demo-schedule.ts: an upstream unit change → fallback and restore, a bad release → rollback, a concept drift → retrain and canary, each verified) plays at ${r.setup.predictionsPerSecond} predictions/s through the gateway, agent cycle ${r.setup.cycleInterval}, under the demo's policy with a canary of ${r.setup.canaryMinRows} candidate rows (about ten seconds, where the demo's 80 pass in under three), on a private PostgreSQL cluster, a Temporal dev server, the worker and the API (bench/chaos-stack.ts). Each round aims at the remedy steps with the fewest faults so far (each with at most ${r.setup.aimSlack} faults more than the least hit; a share ${r.setup.monitoringShare} of rounds at the plain monitoring loop instead), polls the agent's status until it names one of them (back to back while a rollback or a fallback is aimed at: each is a single deployment change), or for at most ${r.setup.remedyWaitSeconds} s, then kills after a random delay up to about the step's length (${killWithin}), one component, or two (chance ${r.setup.secondFaultChance}): the worker, the API or the Temporal server by kill -9, PostgreSQL by \`pg_ctl stop -m immediate\`; starts them again after up to ${r.setup.maxOutageMs / 1000} s; waits for the agent to complete a cycle; and checks the invariants on the database (lib/bench/chaos-invariants.ts). After the last fault the run settles (traffic on, faults off) until every incident has an outcome, and a last check covers all ${r.acknowledgedPredictions} acknowledged predictions.

**${r.rounds} rounds, ${r.faults.total} faults, ${r.violations.total} invariant violations.** Time to resume (restart → the agent's next completed cycle, ${r.resume.samples} rounds): p50 ${seconds(r.resume.p50Seconds)}, max ${seconds(r.resume.maxSeconds)} (a worker's restart includes bundling its workflows). Settled in ${r.settle.seconds} s${r.settle.settled ? '' : ' (timed out)'}.

| faults per kind | |
|---|---|
${Object.entries(r.faults.byKind)
  .map(([k, n]) => `| ${k} | ${n} |`)
  .join('\n')}

| step in flight at the kill (the status read last before it) | faults | rounds aimed at it |
|---|---|---|
${[...new Set([...REMEDY_STEPS, ...Object.keys(r.faults.byPoint), ...Object.keys(r.faults.roundsAimedAt)])]
  .map((step) => `| ${step} | ${r.faults.byPoint[step] ?? 0} | ${r.faults.roundsAimedAt[step] ?? 0} |`)
  .join('\n')}

Goal: at least ${FAULTS_PER_STEP_GOAL} faults in each remedy step — ${short(r.faults.byPoint)}. Components that died without being killed: ${exits === 0 ? 'none' : list(r.unexpectedExits)}. Incidents at the end: ${list(r.incidents) || 'none'}.

| invariant | violations |
|---|---|
${Object.entries(r.violations.byInvariant)
  .map(([k, n]) => `| ${INVARIANT_TEXT[k as Invariant]} | ${n} |`)
  .join('\n')}${violations}
`;
}

/** Writes the JSON (to `out`, or the committed results and then the docs section from them). */
export function writeChaosResults(json: ChaosJson, out?: string): void {
  const file = out ?? CHAOS_RESULTS;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  if (out === undefined) writeBenchmarkSection(renderChaosSection(json));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeBenchmarkSection(renderChaosSection(JSON.parse(fs.readFileSync(CHAOS_RESULTS, 'utf8'))));
}
