// The demo's world: its policy, its schedule of injected failures and the traffic that plays it against a
// live API, one phase after another. `npm run demo` shows it to people; `npm run bench:chaos` plays the
// same schedule while it kills the stack under the remedies it provokes.
import type { JsonCall } from '../api-client.ts';
import { creditDefault } from './demo-models.ts';
import { drive, quietFor } from './drive.ts';
import { findScenario } from './scenarios.ts';
import { brokenPipelineData, type DemoModelSetup, setUpDemoModel } from './setup.ts';
import { generateStream } from './stream.ts';

export const DEMO_MODEL = creditDefault.name;

/** Both speeds give the agent about 200 predictions per window: enough labels to judge accuracy. */
export const DEMO_SPEEDS = {
  fast: { cycle: '2 seconds', phase: 0.4, rate: 100, labelDelayMs: 300 },
  normal: { cycle: '10 seconds', phase: 1, rate: 20, labelDelayMs: 1000 },
} as const;
export type DemoSpeed = (typeof DEMO_SPEEDS)[keyof typeof DEMO_SPEEDS];

/**
 * The demo's policy: the defaults, with evidence sizes and waits scaled to a demo's few hundred
 * predictions per minute (a production model would see far more, and keep the defaults). Verification
 * allows 0.03 of accuracy rather than 0.02: the demo's pre-failure baseline rests on a few windows of
 * about 200 labels (±0.01 by chance), and after its concept drift the best a refit reaches is about 0.01
 * below the old level (test/unit/sim-recoverability.test.ts measures the same world), so at 0.02 a good
 * retrain is escalated on some runs by chance alone.
 */
export const DEMO_POLICY = {
  retrain: { minRows: 600, canaryMinRows: 80, canaryShare: 0.3, maxWait: '10 minutes' },
  verification: { minRows: 400, tolerance: 0.03, maxWait: '10 minutes' },
  cooldowns: { rollback: '1 minute', retrain: '2 minutes', fallback: '1 minute', disable: '1 minute' },
};

export interface Phase {
  scenario: string;
  seconds: number;
  note: string;
  /** Deploy this release as production when the phase starts (what a CD pipeline would do). */
  release?: 'bad';
  /** No traffic at all during the phase. */
  silent?: boolean;
}

/**
 * The failure schedule, repeated: each phase draws traffic from one simulator scenario (in the world the
 * phase says: the concept drift, once it came, stays). Four failures the agent must handle on its own:
 * three it can repair, one (the upstream going silent) that only a human can.
 */
export const DEMO_SCHEDULE: readonly Phase[] = [
  { scenario: 'steady', seconds: 60, note: 'healthy traffic: the agent learns its baseline' },
  {
    scenario: 'unit-change',
    seconds: 60,
    note: 'INJECTED: upstream sends income in cents (×1000) → expect fallback',
  },
  { scenario: 'steady', seconds: 100, note: 'upstream fixed → expect production restored and verified' },
  {
    scenario: 'steady',
    seconds: 100,
    release: 'bad',
    note: 'INJECTED: a bad release (version trained on corrupted labels) is deployed → expect rollback',
  },
  {
    scenario: 'concept-drift',
    seconds: 180,
    note: 'INJECTED: rates rise, defaults follow a new rule → expect retrain',
  },
  {
    scenario: 'concept-drift',
    seconds: 60,
    silent: true,
    note: 'INJECTED: the upstream goes silent → expect escalation',
  },
  { scenario: 'concept-drift', seconds: 60, note: 'traffic is back; the escalation waits for a human' },
];

/** The demo model with its policy, production and fallback versions (lib/sim/setup.ts). */
export function setUpDemo(call: JsonCall): Promise<DemoModelSetup> {
  return setUpDemoModel(call, creditDefault, { rows: 4000, policy: DEMO_POLICY });
}

/** Registers the bad release: a version trained by a broken pipeline (lib/sim/setup.ts brokenPipelineData). */
export async function registerBadRelease(call: JsonCall): Promise<number> {
  const res = await call('POST', `/v1/models/${DEMO_MODEL}/versions`, {
    train: { trainer: 'logistic-regression' },
    data: brokenPipelineData(),
  });
  if (res.status !== 201) throw new Error(`could not register the bad release: ${JSON.stringify(res.body)}`);
  return res.body.version.version;
}

export interface PlayOptions {
  call: JsonCall;
  speed: DemoSpeed;
  /** Predictions per second. */
  rate: number;
  /** The bad release's version number (registerBadRelease). */
  badRelease: number;
  /** Unique per run, so that a restarted demo never sends ids it sent before. */
  runId: string;
  signal: AbortSignal;
  say: (line: string) => void;
  /** Ids of the predictions the gateway acknowledged (answered 2xx). */
  onAcknowledged?: (ids: string[]) => void;
  /** After each pass over the schedule. */
  onRoundEnd?: (round: number) => Promise<void>;
}

/** Plays the schedule over and over until the signal aborts. */
export async function playSchedule(options: PlayOptions): Promise<void> {
  const { call, speed, rate, signal, say } = options;
  for (let round = 0; !signal.aborted; round++) {
    for (const [i, phase] of DEMO_SCHEDULE.entries()) {
      if (signal.aborted) break;
      const seconds = phase.seconds * speed.phase;
      say(`traffic: ${phase.note} (${Math.round(seconds)} s)`);
      if (i === 0 && round > 0) await startOver(call, say);
      if (phase.release === 'bad')
        await deploy(call, options.badRelease, 'release 1.1 (a bad release, injected by the demo)', say);
      if (phase.silent) {
        await quietFor(seconds * 1000, signal);
        continue;
      }
      const phaseStop = AbortSignal.any([signal, AbortSignal.timeout(seconds * 1000)]);
      const scenario = { ...findScenario(phase.scenario)!, onset: 0 };
      const count = Math.ceil(seconds * rate);
      await drive({
        call,
        modelName: DEMO_MODEL,
        events: generateStream({ model: creditDefault, scenario, seed: round * 10 + i + 1, count })[
          Symbol.iterator
        ](),
        serve: 'gateway',
        ratePerSecond: rate,
        labelDelayMs: speed.labelDelayMs,
        idPrefix: `${options.runId}-${round}-${i}`,
        signal: phaseStop,
        onError: (message) => say(`traffic: ${message}`),
        ...(options.onAcknowledged ? { onAcknowledged: options.onAcknowledged } : {}),
      });
    }
    if (!signal.aborted) await options.onRoundEnd?.(round);
  }
}

async function deploy(call: JsonCall, version: number, reason: string, say: (line: string) => void) {
  const res = await call('POST', `/v1/models/${DEMO_MODEL}/deployment`, {
    production: version,
    // Serving it, even when the agent left the model on its fallback (an escalated incident does).
    mode: 'serving',
    reason,
    actor: 'release-pipeline',
  });
  if (res.status === 201 || res.status === 200) say(`deployed version ${version} to production: ${reason}`);
  else say(`could not deploy version ${version}: ${JSON.stringify(res.body)}`);
}

/**
 * Between rounds the demo plays the on-call human: it acknowledges the escalation so the loop carries
 * on, and puts release 1.0 back (unless it serves already). The next round's traffic comes from the
 * world before the concept drift, which the version retrained on the drifted world no longer fits: left
 * serving, it would be a real concept drift of its own, and the next round's failures would land in the
 * middle of handling it.
 */
async function startOver(call: JsonCall, say: (line: string) => void) {
  await acknowledgeEscalation(call, say);
  const versions = await call('GET', `/v1/models/${DEMO_MODEL}/versions`);
  // setUpDemoModel trains production before anything else: release 1.0 is the model's first version.
  const first = Math.min(...(versions.body?.versions ?? []).map((v: { version: number }) => v.version));
  const { deployment } = (await call('GET', `/v1/models/${DEMO_MODEL}/deployment`)).body ?? {};
  if (Number.isFinite(first) && (deployment?.production?.version !== first || deployment?.mode !== 'serving'))
    await deploy(call, first, 'release 1.0 again: the next round starts where the first did', say);
}

async function acknowledgeEscalation(call: JsonCall, say: (line: string) => void) {
  const res = await call('GET', `/v1/models/${DEMO_MODEL}/agent`);
  const incident = res.body?.agent?.openIncident;
  if (incident?.status !== 'escalated') return;
  const ack = await call('POST', `/v1/models/${DEMO_MODEL}/agent/acknowledge`, {
    incidentId: incident.id,
    reason: 'demo on-call: upstream restarted',
    actor: 'demo-on-call',
  });
  // 202: the agent accepted it and finishes it on its next step.
  say(
    ack.status === 200 || ack.status === 202
      ? `on-call acknowledged incident ${incident.id.slice(0, 8)}`
      : `acknowledge failed: ${JSON.stringify(ack.body)}`,
  );
}
