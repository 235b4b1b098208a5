// Chaos benchmark (issue 15 item 9): `npm run bench:chaos [-- --faults 100 --seed 1]`.
//
// The demo's world (lib/sim/demo-schedule.ts: an upstream unit change → fallback and restore, a bad
// release → rollback, a concept drift → retrain and canary, each verified) plays against the whole stack
// on a private PostgreSQL (bench/chaos-stack.ts), traffic flowing through the gateway. Round after round
// the bench aims at the remedy steps with the fewest faults so far (now and then at the plain monitoring
// loop), waits for the agent's status to name one of them and, at a random point inside it, picks one or
// two of the worker, the API, the Temporal dev server and PostgreSQL at random, kills them (kill -9; PostgreSQL
// `pg_ctl stop -m immediate`), starts them again after a random outage, waits for the agent to complete
// a cycle, then checks the invariants (lib/bench/chaos-invariants.ts) on the database. Once the faults
// are done the run settles (faults stop, traffic goes on) until no incident is left without an outcome,
// and a last check covers every prediction acknowledged during the run.
//
// Writes bench/results/chaos.json and, from it, the "## Chaos" section of docs/benchmarks.md
// (bench/chaos-report.ts). Progress on stderr. Exit code 1 when an invariant was violated.
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  checkStoredInvariants,
  INCIDENT_OUTCOMES,
  INVARIANTS,
  type Invariant,
  type InvariantReport,
  type Violation,
} from '../lib/bench/chaos-invariants.ts';
import { creditDefault } from '../lib/sim/demo-models.ts';
import * as demo from '../lib/sim/demo-schedule.ts';
import { Random } from '../lib/sim/random.ts';
import { setUpDemoModel } from '../lib/sim/setup.ts';
import { type ChaosJson, REMEDY_STEPS, writeChaosResults } from './chaos-report.ts';
import { ChaosStack, FAULT_KINDS, type FaultKind } from './chaos-stack.ts';

const { values: args } = parseArgs({
  options: {
    faults: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: String(demo.DEMO_SPEEDS.fast.rate) },
    /** How long a round waits for a step it aims at before faulting whatever is in flight instead. */
    'remedy-wait': { type: 'string', default: '30' },
    /** How long the run may take to settle (every incident with an outcome) after the last fault. */
    'settle-minutes': { type: 'string', default: '8' },
    /** Write the results here instead of bench/results/chaos.json (and leave the docs alone). */
    out: { type: 'string' },
  },
});
const targetFaults = Number(args.faults);
const seed = Number(args.seed);
const rate = Number(args.rate);
const remedyWaitMs = Number(args['remedy-wait']) * 1000;
const settleMs = Number(args['settle-minutes']) * 60_000;
if (!(targetFaults > 0 && rate > 0 && remedyWaitMs >= 0 && settleMs > 0))
  throw new Error('--faults, --rate and --settle-minutes must be positive numbers');

/** Longest outage of a component before it is started again. */
const MAX_OUTAGE_MS = 3000;
/** Chance that a round takes down a second component with the first (their restarts overlap in one round). */
const SECOND_FAULT = 0.5;
/** How long the agent may take to complete a cycle after the restart before "not resumed" is reported. */
const RESUME_TIMEOUT_MS = 180_000;
/** Share of rounds aimed at the plain monitoring loop rather than at a remedy step. */
const MONITORING_SHARE = 0.15;
/**
 * A round aims at every remedy step with at most this many faults more than the least faulted one: the
 * faults spread over the steps without a round waiting a whole pass of the schedule for a single one.
 */
const AIM_SLACK = 2;
/**
 * How long the canary runs: the demo's canary decides on 80 candidate rows, under 3 s at the demo's rate
 * (one or two status polls, so the rounds aimed at it almost never caught it); here it waits for this
 * many seconds of the candidate's share of the traffic, as a production canary of a few hundred rows does.
 */
const CANARY_SECONDS = 10;
/**
 * The kill comes at a random delay after the agent is first seen in the step, up to about the step's
 * length, so that it lands at a random point inside it. A rollback or a fallback is one deployment change
 * (a few hundred milliseconds); the others wait for a timer, a training or rows of evidence.
 */
const KILL_WITHIN_MS: Record<string, number> = {
  rollback: 300,
  fallback: 300,
  restore: 1500,
  canary: CANARY_SECONDS * 1000,
  retrain: 3000,
  verify: 3000,
  monitoring: 1500,
};
/** The steps too short to catch at the usual polling pace: the status is polled back to back for them. */
const SHORT_STEPS = new Set(['rollback', 'fallback']);
const POLL_MS = 250;

const started = Date.now();
const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
const elapsed = () => {
  const s = Math.round((Date.now() - started) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
const log = (line: string) => process.stderr.write(`[chaos ${elapsed()}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rng = new Random(seed);
const chaosPolicy = {
  ...demo.DEMO_POLICY,
  retrain: {
    ...demo.DEMO_POLICY.retrain,
    canaryMinRows: Math.round(rate * demo.DEMO_POLICY.retrain.canaryShare * CANARY_SECONDS),
  },
};
const speed = demo.DEMO_SPEEDS.fast;

const stack = await ChaosStack.start({ cycleInterval: speed.cycle, log });
const { call } = stack;
const traffic = new AbortController();
/** The stack's folder stays for a post-mortem unless the run ended clean. */
let keepFolder = true;
try {
  log('setting up the demo model (trains production, fallback and a bad release)');
  await setUpDemoModel(call, creditDefault, { rows: 4000, policy: chaosPolicy });
  const badRelease = await demo.registerBadRelease(call);

  /** Ids acknowledged since the last check. */
  let acknowledged: string[] = [];
  /** Every id acknowledged during the run, for the last check. */
  const allAcknowledged: string[] = [];
  const playing = demo.playSchedule({
    call,
    speed,
    rate,
    badRelease,
    runId: `chaos-${seed}`,
    signal: traffic.signal,
    say: (line) => {
      // Traffic refused while a component is down is the point of the run, not news.
      if (!line.startsWith('traffic: predictions rejected') && !line.startsWith('traffic: labels rejected'))
        log(line);
    },
    onAcknowledged: (ids) => {
      acknowledged.push(...ids);
      allAcknowledged.push(...ids);
    },
  });

  const agentState = async () => {
    const res = await call('GET', `/v1/models/${demo.DEMO_MODEL}/agent`);
    return res.status === 200 ? res.body.agent : null;
  };
  /** Where in a remedy the agent is: the step in flight, named as the issue names remedies. */
  // biome-ignore lint/suspicious/noExplicitAny: the status route's JSON, read for two fields
  const pointOf = (agent: any): string => {
    const step = agent?.inFlight;
    if (!step) return 'monitoring';
    if (step.phase === 'remedy') {
      if (step.action === 'retrain') return agent.deployment?.canaryVersion != null ? 'canary' : 'retrain';
      return step.action;
    }
    if (step.phase === 'holding' || step.phase === 'restoring') return 'restore';
    if (step.phase === 'verifying') return 'verify';
    if (step.phase === 'undoing') return 'undo';
    return step.phase;
  };

  // The baseline first: faults before the agent knows the healthy level would provoke nothing.
  while ((await agentState())?.cycle < 10) await sleep(1000);

  const faultsByKind: Record<FaultKind, number> = { worker: 0, api: 0, temporal: 0, postgres: 0 };
  const faultsByPoint: Record<string, number> = {};
  const violations: (Violation & { round: number })[] = [];
  const resumeMs: number[] = [];
  let rounds = 0;
  let faults = 0;
  let unaudited: string[] = [];
  let incidents: Record<string, number> = {};

  const record = (round: number, report: InvariantReport) => {
    for (const v of report.violations) violations.push({ ...v, round });
    unaudited = report.unaudited;
    incidents = report.incidents;
  };
  /** Checks the ids acknowledged since the last check. */
  const check = async (round: number) => {
    const ids = acknowledged;
    acknowledged = [];
    const store = await stack.openStore();
    try {
      const report = await checkStoredInvariants(store, demo.DEMO_MODEL, ids, { settled: false });
      record(round, report);
      return report;
    } finally {
      await store.$disconnect();
    }
  };

  const roundsAimedAt: Record<string, number> = {};
  /** The steps a round aims at: the least faulted remedy steps, or (now and then) plain monitoring. */
  const aim = (): string[] => {
    if (rng.bernoulli(MONITORING_SHARE)) return ['monitoring'];
    const fewest = Math.min(...REMEDY_STEPS.map((step) => faultsByPoint[step] ?? 0));
    return REMEDY_STEPS.filter((step) => (faultsByPoint[step] ?? 0) <= fewest + AIM_SLACK);
  };

  while (faults < targetFaults) {
    const round = ++rounds;
    const targets = aim();
    const pollMs = targets.some((t) => SHORT_STEPS.has(t)) ? 0 : POLL_MS;
    const waitUntil = Date.now() + remedyWaitMs;
    let agent = await agentState();
    while (Date.now() < waitUntil && !targets.includes(pointOf(agent))) {
      await sleep(pollMs);
      agent = (await agentState()) ?? agent;
    }
    // The point recorded is the one the status named last before the kill: a step seen near its end may
    // be over when the delay has passed, and is then not counted as hit.
    const delay = rng.uniform(0, KILL_WITHIN_MS[pointOf(agent)] ?? POLL_MS);
    if (delay >= 1) {
      await sleep(delay);
      agent = (await agentState()) ?? agent;
    }
    const point = pointOf(agent);
    const cycleBefore: number = agent?.cycle ?? 0;
    const first = FAULT_KINDS[rng.int(0, FAULT_KINDS.length - 1)]!;
    const others = FAULT_KINDS.filter((k) => k !== first);
    const kinds = rng.bernoulli(SECOND_FAULT) ? [first, others[rng.int(0, others.length - 1)]!] : [first];

    for (const kind of kinds) {
      await stack.kill(kind);
      faultsByKind[kind]++;
      faults++;
    }
    faultsByPoint[point] = (faultsByPoint[point] ?? 0) + kinds.length;
    for (const target of targets) roundsAimedAt[target] = (roundsAimedAt[target] ?? 0) + 1;
    await sleep(rng.uniform(500, MAX_OUTAGE_MS));
    // Resume time counts the components' own start (the worker bundles its workflows, the API connects).
    const restarted = Date.now();
    await stack.restartAll(kinds);

    // Resumed: a cycle completed after the restart (cycle + 1 may have completed just before the kill).
    let resumed = false;
    while (Date.now() - restarted < RESUME_TIMEOUT_MS) {
      const now = await agentState();
      if (now && now.cycle >= cycleBefore + 2) {
        resumed = true;
        resumeMs.push(Date.now() - restarted);
        break;
      }
      await sleep(250);
    }
    if (!resumed)
      violations.push({
        invariant: 'agent-resumed',
        detail: `no cycle past ${cycleBefore + 1} within ${RESUME_TIMEOUT_MS / 1000} s of the restart`,
        round,
      });
    const report = await check(round);
    log(
      `round ${round}: ${kinds.join('+')} killed during ${point} (aimed at ${targets.join('/')}); ${resumed ? `resumed in ${((resumeMs.at(-1) ?? 0) / 1000).toFixed(1)} s` : 'NOT resumed'}; ${report.violations.length} violations (${violations.length} in all); faults ${faults}/${targetFaults}`,
    );
  }

  // Settle: no more faults, traffic goes on, until every incident has an outcome. The last check runs at
  // such a moment (traffic may open a new incident a moment later: that one is not the run's to settle),
  // and covers every prediction acknowledged during the run.
  log('faults done: settling until every incident has an outcome');
  const settleStart = Date.now();
  let settled = false;
  for (;;) {
    const timedOut = Date.now() - settleStart >= settleMs;
    const store = await stack.openStore();
    try {
      const open = await store.incident.count({
        where: { model: { name: demo.DEMO_MODEL }, status: { notIn: [...INCIDENT_OUTCOMES] } },
      });
      if (open === 0 || timedOut) {
        const report = await checkStoredInvariants(store, demo.DEMO_MODEL, allAcknowledged, {
          settled: true,
        });
        settled = !report.violations.some((v) => v.invariant === 'incident-has-outcome');
        if (settled || timedOut) {
          record(rounds + 1, report);
          break;
        }
      }
    } finally {
      await store.$disconnect();
    }
    await sleep(2000);
  }
  const settleSeconds = Math.round((Date.now() - settleStart) / 1000);
  traffic.abort();
  await playing;
  log(
    `settled in ${settleSeconds} s${settled ? '' : ' (timed out: an incident is still without an outcome)'}`,
  );

  const sorted = [...resumeMs].sort((a, b) => a - b);
  const byInvariant = Object.fromEntries(INVARIANTS.map((i) => [i, 0])) as Record<Invariant, number>;
  for (const v of violations) byInvariant[v.invariant]++;
  const json: ChaosJson = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench:chaos -- --faults ${targetFaults} --seed ${seed} --rate ${rate}`,
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage: { start: loadAtStart, end: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    },
    setup: {
      database: 'postgresql (private cluster)',
      cycleInterval: speed.cycle,
      predictionsPerSecond: rate,
      maxOutageMs: MAX_OUTAGE_MS,
      secondFaultChance: SECOND_FAULT,
      monitoringShare: MONITORING_SHARE,
      aimSlack: AIM_SLACK,
      remedyWaitSeconds: remedyWaitMs / 1000,
      killWithinMs: KILL_WITHIN_MS,
      canaryMinRows: chaosPolicy.retrain.canaryMinRows,
    },
    wallSeconds: Math.round((Date.now() - started) / 1000),
    rounds,
    faults: { total: faults, byKind: faultsByKind, byPoint: faultsByPoint, roundsAimedAt },
    unexpectedExits: stack.unexpectedExits,
    resume: {
      samples: sorted.length,
      p50Seconds: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! / 1000 : null,
      maxSeconds: sorted.length ? sorted.at(-1)! / 1000 : null,
    },
    acknowledgedPredictions: allAcknowledged.length,
    incidents,
    settle: { settled, seconds: settleSeconds, unauditedAtEnd: unaudited.length },
    violations: { total: violations.length, byInvariant, first: violations.slice(0, 50) },
  };
  writeChaosResults(json, args.out);
  log(`done: ${faults} faults in ${rounds} rounds, ${violations.length} invariant violations`);
  if (violations.length > 0) process.exitCode = 1;
  keepFolder = violations.length > 0;
} finally {
  traffic.abort();
  await stack.close({ keep: keepFolder });
}
