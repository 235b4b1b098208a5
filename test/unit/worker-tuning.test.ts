import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_DEFAULTS } from '../../lib/agent-defaults.ts';
import { durationMs } from '../../lib/policy/duration.ts';
import { startDelayMs } from '../../lib/temporal.ts';
import { spreadsStarts } from '../../worker/reconcile.ts';
import { WORKER_TUNING_ENV, workerTuningFromEnv } from '../../worker/tuning.ts';
import { workflowBundleFromEnv } from '../../worker/workflow-bundle.ts';

describe('workerTuningFromEnv', () => {
  it('sets nothing when nothing is configured, so the SDK defaults apply', () => {
    expect(workerTuningFromEnv({})).toEqual({});
    expect(workerTuningFromEnv({ HOMEOSTAT_WORKER_CACHED_WORKFLOWS: ' ' })).toEqual({});
  });

  it('maps every variable to its worker option', () => {
    const env = Object.fromEntries(Object.keys(WORKER_TUNING_ENV).map((name, i) => [name, String(20 - i)]));
    expect(workerTuningFromEnv(env)).toEqual({
      maxCachedWorkflows: 20,
      maxConcurrentWorkflowTaskExecutions: 19,
      maxConcurrentActivityTaskExecutions: 18,
      maxConcurrentWorkflowTaskPolls: 17,
      maxConcurrentActivityTaskPolls: 16,
    });
  });

  it('accepts a cache of 0 (every task replays) but refuses values the SDK would refuse or a typo', () => {
    expect(workerTuningFromEnv({ HOMEOSTAT_WORKER_CACHED_WORKFLOWS: '0' })).toEqual({
      maxCachedWorkflows: 0,
    });
    for (const [name, raw] of [
      ['HOMEOSTAT_WORKER_WORKFLOW_TASKS', '1'],
      ['HOMEOSTAT_WORKER_WORKFLOW_POLLERS', '1'],
      ['HOMEOSTAT_WORKER_ACTIVITIES', '0'],
      ['HOMEOSTAT_WORKER_CACHED_WORKFLOWS', '1.5'],
      ['HOMEOSTAT_WORKER_CACHED_WORKFLOWS', '600MB'],
      ['HOMEOSTAT_WORKER_ACTIVITY_POLLERS', '-3'],
    ] as const) {
      expect(() => workerTuningFromEnv({ [name]: raw }), `${name}=${raw}`).toThrow(name);
    }
  });

  it('refuses more workflow pollers than workflow task slots', () => {
    expect(() =>
      workerTuningFromEnv({ HOMEOSTAT_WORKER_WORKFLOW_TASKS: '4', HOMEOSTAT_WORKER_WORKFLOW_POLLERS: '8' }),
    ).toThrow('cannot exceed');
    expect(
      workerTuningFromEnv({ HOMEOSTAT_WORKER_WORKFLOW_TASKS: '8', HOMEOSTAT_WORKER_WORKFLOW_POLLERS: '8' }),
    ).toEqual({ maxConcurrentWorkflowTaskExecutions: 8, maxConcurrentWorkflowTaskPolls: 8 });
  });
});

describe('startDelayMs', () => {
  const taskQueue = 'q';

  it('spreads first cycles over one cycle interval, the default interval when none is set', () => {
    const interval = durationMs(AGENT_DEFAULTS.cycleInterval);
    expect(startDelayMs({ taskQueue, startJitter: true }, () => 0)).toBe(0);
    expect(startDelayMs({ taskQueue, startJitter: true }, () => 0.5)).toBe(interval / 2);
    expect(startDelayMs({ taskQueue, startJitter: true }, () => 0.999_999)).toBeLessThan(interval);
    expect(startDelayMs({ taskQueue, startJitter: true, cycleInterval: '10 seconds' }, () => 0.25)).toBe(
      2500,
    );
    expect(startDelayMs({ taskQueue, startJitter: true, cycleInterval: 4000 }, () => 0.5)).toBe(2000);
  });

  it('is zero when jitter is off', () => {
    expect(startDelayMs({ taskQueue }, () => 0.9)).toBe(0);
    expect(startDelayMs({ taskQueue, startJitter: false, cycleInterval: '1 hour' }, () => 0.9)).toBe(0);
  });
});

describe('spreadsStarts', () => {
  it('spreads a reconcile round that starts several agents, not one that starts a single agent', () => {
    expect(spreadsStarts(1000, {})).toBe(true);
    expect(spreadsStarts(2, {})).toBe(true);
    expect(spreadsStarts(1, {})).toBe(false);
    expect(spreadsStarts(0, {})).toBe(false);
  });

  it('HOMEOSTAT_START_JITTER=0 turns it off', () => {
    expect(spreadsStarts(1000, { HOMEOSTAT_START_JITTER: '0' })).toBe(false);
    expect(spreadsStarts(1000, { HOMEOSTAT_START_JITTER: '1' })).toBe(true);
  });
});

describe('workflowBundleFromEnv', () => {
  it('bundles at start when HOMEOSTAT_WORKFLOW_BUNDLE is unset or blank', () => {
    expect(workflowBundleFromEnv({})).toBeUndefined();
    expect(workflowBundleFromEnv({ HOMEOSTAT_WORKFLOW_BUNDLE: ' ' })).toBeUndefined();
  });

  it('runs the file it names, and refuses a path with no file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-bundle-')), 'workflows.js');
    fs.writeFileSync(file, '');
    expect(workflowBundleFromEnv({ HOMEOSTAT_WORKFLOW_BUNDLE: file })).toEqual({ codePath: file });
    fs.rmSync(path.dirname(file), { recursive: true });
    expect(() => workflowBundleFromEnv({ HOMEOSTAT_WORKFLOW_BUNDLE: file })).toThrow(
      `HOMEOSTAT_WORKFLOW_BUNDLE: no file at ${file}`,
    );
  });
});
