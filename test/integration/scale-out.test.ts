// Scaled out as docs/operations.md describes it: two API processes and two worker processes against one
// Temporal and one PostgreSQL. Models registered through one API are served, fed and controlled through
// the other; every acknowledged prediction is stored once; when one worker is killed the other carries
// every agent on, with one decision per cycle.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type JsonCall, jsonClient } from '../../lib/api-client.ts';
import { rotateApiKey } from '../../lib/auth/keys.ts';
import { describeOnPostgres } from '../helpers/db.ts';
import type { RunningProcess } from '../helpers/processes.ts';
import { type ProcessStack, startProcessStack } from '../helpers/stack.ts';

const MODELS = ['scale-a', 'scale-b', 'scale-c', 'scale-d'];

describeOnPostgres('two APIs and two workers on one Temporal and one PostgreSQL', () => {
  let stack: ProcessStack;
  let callA: JsonCall;
  let callB: JsonCall;
  let workers: RunningProcess[];

  beforeAll(async () => {
    stack = await startProcessStack('scale-out-test', {}, {}, 'postgresql');
    const second = await stack.startApi();
    callA = stack.call;
    // A key of its own (the stack's admin key stays valid for the first API).
    const key = await rotateApiKey(stack.db.store, 'scale-out-b', 'admin');
    callB = jsonClient(second.url, { authorization: `Bearer ${key}` });
    workers = [stack.startWorker(), stack.startWorker()];
    await Promise.all(workers.map((w) => w.waitForLog('worker started')));
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const cycleOf = async (call: JsonCall, model: string) => {
    const { status, body } = await call('GET', `/v1/models/${model}/agent`);
    return status === 200 ? (body.agent.cycle as number) : -1;
  };
  const waitForCycles = async (call: JsonCall, atLeast: (model: string) => number) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const cycles = await Promise.all(MODELS.map((m) => cycleOf(call, m)));
      if (cycles.every((c, i) => c >= atLeast(MODELS[i]!))) return cycles;
      if (Date.now() > deadline) throw new Error(`agents stalled at cycles ${cycles.join(', ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('serves, feeds and controls every model through either API, and survives losing a worker', {
    timeout: 360_000,
  }, async () => {
    for (const name of MODELS) {
      const registered = await callA('POST', '/v1/models', {
        name,
        task: 'binary',
        labels: ['no', 'yes'],
        featureSchema: [{ name: 'income', type: 'numeric', min: 0 }],
      });
      expect(registered.status).toBe(201);
      expect(registered.body.agent.started).toBe(true);
    }

    // Predictions through one API, their labels through the other, both at once.
    const acknowledged: string[] = [];
    const feed = async (batch: string) =>
      Promise.all(
        MODELS.map(async (model, m) => {
          const [send, label] = m % 2 === 0 ? [callA, callB] : [callB, callA];
          const predictions = Array.from({ length: 25 }, (_, i) => ({
            id: `${batch}-${i}`,
            features: { income: 1000 + i },
            prediction: 'yes',
            confidence: 0.8,
          }));
          const sent = await send('POST', `/v1/models/${model}/predictions`, { predictions });
          expect(sent.status).toBe(202);
          acknowledged.push(...predictions.map((p) => `${model}/${p.id}`));
          const labels = predictions.map((p, i) => ({
            predictionId: p.id,
            label: i % 5 === 0 ? 'no' : 'yes',
          }));
          expect((await label('POST', `/v1/models/${model}/labels`, { labels })).status).toBe(202);
        }),
      );
    await feed('first');
    await waitForCycles(callB, () => 3);

    // A control sent through the second API reaches the agent registered through the first.
    const paused = await callB('POST', `/v1/models/${MODELS[0]}/agent/pause`, { reason: 'scale-out test' });
    expect(paused).toMatchObject({ status: 200, body: { agent: { paused: true } } });
    expect((await callA('GET', `/v1/models/${MODELS[0]}/agent`)).body.agent.paused).toBe(true);
    const resumed = await callA('POST', `/v1/models/${MODELS[0]}/agent/resume`, { reason: 'scale-out test' });
    expect(resumed).toMatchObject({ status: 200, body: { agent: { paused: false } } });

    // One worker dies: the other takes every agent on (Temporal hands their tasks to the poller left).
    const before = await Promise.all(MODELS.map((m) => cycleOf(callA, m)));
    await workers[0]!.stop('SIGKILL');
    await feed('second');
    await waitForCycles(callA, (model) => before[MODELS.indexOf(model)]! + 3);
    await workers[1]!.stop('SIGTERM');

    const { store } = stack.db;
    const stored = await store.prediction.findMany({
      select: { id: true, model: { select: { name: true } } },
    });
    const keys = stored.map((p) => `${p.model.name}/${p.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual([...acknowledged].sort());
    expect(await store.label.count()).toBe(acknowledged.length);
    for (const name of MODELS) {
      const decisions = await store.decision.findMany({
        where: { model: { name } },
        orderBy: { cycle: 'asc' },
        select: { cycle: true },
      });
      const cycles = decisions.map((d) => d.cycle);
      expect(cycles, name).toEqual(cycles.map((_, i) => i)); // one decision per cycle, none skipped
    }
  });
});
