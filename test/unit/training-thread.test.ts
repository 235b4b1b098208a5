// Built-in training runs in a thread of its own (lib/models/training-thread.ts), so that the worker keeps
// answering queries and updates, and the API predictions, while a model trains.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainModel } from '../../lib/models/index.ts';
import { trainModelInThread } from '../../lib/models/training-thread.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { referenceData } from '../../lib/sim/setup.ts';

const data = referenceData(creditDefault, 300, 7);

describe('training in the training thread', () => {
  it('gives the artifact training in the caller gives, for each built-in kind', async () => {
    for (const kind of ['logistic-regression', 'random-forest-classifier'] as const) {
      const options = kind === 'random-forest-classifier' ? { trees: 5, seed: 3 } : {};
      const [inThread, here] = await Promise.all([
        trainModelInThread(kind, 'binary', creditDefault.schema, data, options),
        trainModel(kind, 'binary', creditDefault.schema, data, options),
      ]);
      expect(inThread).toEqual(here);
    }
  });

  it('leaves the event loop turning while it trains', async () => {
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    try {
      await trainModelInThread('random-forest-classifier', 'binary', creditDefault.schema, data, {
        trees: 5,
        seed: 4,
      });
    } finally {
      clearInterval(timer);
    }
    // In the caller, the fit is synchronous: no timer would fire until it ended.
    expect(turns).toBeGreaterThan(0);
  });

  it("answers a training's error, and the next training still runs", async () => {
    await expect(
      trainModelInThread('logistic-regression', 'regression', creditDefault.schema, data),
    ).rejects.toThrow('logistic-regression cannot be trained for a regression task');
    const artifact = await trainModelInThread('logistic-regression', 'binary', creditDefault.schema, data);
    expect(artifact.kind).toBe('logistic-regression');
  });

  it('does not keep a process alive once its trainings are done', () => {
    const script = `
      import { trainModelInThread } from './lib/models/training-thread.ts';
      import { creditDefault } from './lib/sim/demo-models.ts';
      import { referenceData } from './lib/sim/setup.ts';
      const artifact = await trainModelInThread('logistic-regression', 'binary', creditDefault.schema, referenceData(creditDefault, 100, 1));
      console.log('trained', artifact.kind);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 25_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('trained logistic-regression');
    // Exited by itself (not killed by the timeout).
    expect(run.status).toBe(0);
  });
});
