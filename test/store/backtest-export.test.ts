// The backtest's export of a model's deployment history from a real store, on SQLite and PostgreSQL:
// the changes people made (through the registry's API, or a revert asked of the agent) are written with
// their times and the deployment each sets, with the artifact and reference profile of every version they
// name; the agent's own changes — its remedies, and a remedy a person approved — are left out. The
// command line writes the same file, and a replay reads it back and serves what it says.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeploymentActivities } from '../../activities/deployment.ts';
import { type DeploymentHistoryFile, readDeploymentsFile } from '../../lib/backtest/deployments.ts';
import { exportStream } from '../../lib/backtest/export.ts';
import { runBacktest } from '../../lib/backtest/replay.ts';
import { readStreamFile } from '../../lib/backtest/stream-file.ts';
import { readWindowsFile } from '../../lib/backtest/windows.ts';
import { loadModel } from '../../lib/models/index.ts';
import { parsePolicy } from '../../lib/policy/policy.ts';
import { changeDeployment, restoreRevision } from '../../lib/registry/revisions.ts';
import { registerVersion } from '../../lib/registry/versions.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { CREDIT_LABELS, creditData, trainCreditModel } from '../helpers/credit-model.ts';
import { createTestDatabase, describeEachProvider, type TestDatabase } from '../helpers/db.ts';

const ROWS = 600;
/** The windows the agent measured over the traffic, (startAt, endAt] in ms after its first prediction. */
const WINDOWS: [number, number][] = [
  [-1000, 19_950],
  [19_950, 39_950],
  [39_950, 60_000],
];

describeEachProvider('backtest export of the deployment history on %s', (provider) => {
  let db: TestDatabase;
  let dir: string;
  const name = `credit-${randomUUID().slice(0, 8)}`;
  let modelId: string;
  let data: ReturnType<typeof creditData>;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-backtest-export-'));
    const model = await db.store.model.create({
      data: { name, task: 'binary', featureSchema: creditDefault.schema, labels: CREDIT_LABELS },
    });
    modelId = model.id;
    for (let i = 1; i <= 3; i++) {
      await registerVersion(db.store, name, {
        artifact: await trainCreditModel(200, i),
        data: creditData(100, i),
      });
    }
    const agent = createDeploymentActivities(db.store);
    const asAgent = (key: string, actor = 'agent') => ({
      modelName: name,
      key,
      actor,
      reason: 'incident x: a remedy',
      incidentId: null,
    });
    // 1: a person deploys production and its fallback through the API (actor "api" by default).
    await changeDeployment(db.store, name, { production: 1, fallback: 2, reason: 'first deployment' });
    // 2, 3: the agent falls back and restores.
    const fallback = await agent.changeDeploymentFor({
      ...asAgent('k-fallback'),
      change: { mode: 'fallback' },
    });
    await agent.restoreDeploymentFor({ ...asAgent('k-restore'), revision: 1 });
    // 4: a release pipeline deploys version 3.
    await changeDeployment(db.store, name, {
      production: 3,
      reason: 'release 1.1',
      actor: 'release-pipeline',
    });
    // 5: a rollback a person approved: the agent's remedy, under the approver's name.
    await agent.restoreDeploymentFor({ ...asAgent('k-rollback', 'human:alice'), revision: 3 });
    // 6: a person restores the release by hand.
    await restoreRevision(db.store, name, 4, { reason: 'release 1.1 again', actor: 'bob' });
    // 7: a person asks the agent to revert its fallback: the deployment from before it comes back.
    await agent.revertAction({
      modelName: name,
      key: 'k-revert',
      actionId: fallback.actionId,
      actor: 'human:carol',
      reason: 'back to version 1',
    });

    // Traffic after the last change: labelled predictions of the demo population.
    data = creditData(ROWS, 21);
    const start = Date.now() + 1000;
    // Version 1 answered the even rows; the odd ones were logged without a version (an external model).
    const v1 = await db.store.modelVersion.findFirstOrThrow({ where: { modelId, version: 1 } });
    await db.store.prediction.createMany({
      data: data.rows.map((features, i) => ({
        id: `p-${i}`,
        modelId,
        source: 'gateway',
        features,
        output: { prediction: '0' },
        confidence: 0.8,
        latencyMs: 3,
        versionId: i % 2 === 0 ? v1.id : null,
        predictedAt: new Date(start + i * 100),
        receivedAt: new Date(start + i * 100),
      })),
    });
    await db.store.label.createMany({
      data: data.labels.map((label, i) => ({
        modelId,
        predictionId: `p-${i}`,
        value: String(label),
        observedAt: new Date(start + i * 100 + 50),
        receivedAt: new Date(start + i * 100 + 50),
      })),
    });
    await db.store.metricWindow.createMany({
      data: WINDOWS.map(([from, to], seq) => ({
        modelId,
        seq,
        startAt: new Date(start + from),
        endAt: new Date(start + to),
        count: 200,
        labelled: 200,
        metrics: {},
      })),
    });
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes the changes people made, with their versions, and leaves out the agent's", async () => {
    const out = path.join(dir, 'deployments.json');
    const result = await exportStream(db.store, name, {
      out: path.join(dir, 'stream.jsonl'),
      deploymentsOut: out,
    });
    expect(result.deployments).toEqual({ changes: 4, versions: 3, agentChanges: 3 });

    const written = JSON.parse(fs.readFileSync(out, 'utf8')) as DeploymentHistoryFile;
    const revisions = await db.store.deploymentRevision.findMany({
      where: { modelId },
      orderBy: { revision: 'asc' },
    });
    expect(revisions.map((r) => r.actor)).toEqual([
      'api',
      'agent',
      'agent',
      'release-pipeline',
      'human:alice',
      'bob',
      'human:carol',
    ]);
    const at = (revision: number) => revisions[revision - 1]!.createdAt.toISOString();
    expect(written).toMatchObject({ format: 1, model: name, task: 'binary', classes: CREDIT_LABELS });
    expect(written.schema).toEqual(creditDefault.schema);
    expect(written.changes).toEqual([
      {
        revision: 1,
        at: at(1),
        actor: 'api',
        reason: 'first deployment',
        mode: 'serving',
        production: 1,
        fallback: 2,
        canary: null,
        shadow: null,
        restoredFrom: null,
      },
      {
        revision: 4,
        at: at(4),
        actor: 'release-pipeline',
        reason: 'release 1.1',
        mode: 'serving',
        production: 3,
        fallback: 2,
        canary: null,
        shadow: null,
        restoredFrom: null,
      },
      {
        revision: 6,
        at: at(6),
        actor: 'bob',
        reason: 'release 1.1 again',
        mode: 'serving',
        production: 3,
        fallback: 2,
        canary: null,
        shadow: null,
        restoredFrom: 4,
      },
      {
        revision: 7,
        at: at(7),
        actor: 'human:carol',
        reason: 'back to version 1',
        mode: 'serving',
        production: 1,
        fallback: 2,
        canary: null,
        shadow: null,
        restoredFrom: 1,
      },
    ]);
    // Every version the changes name, exactly as registered: its artifact and its reference profile.
    const stored = await db.store.modelVersion.findMany({ where: { modelId }, orderBy: { version: 'asc' } });
    expect(written.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    for (const v of written.versions) {
      const row = stored.find((s) => s.version === v.version)!;
      expect(v.artifact).toEqual(row.artifact);
      expect(v.reference).toEqual(row.referenceStats);
      expect(v.reference).toMatchObject({ format: 1, task: 'binary', rows: 100 });
    }
    // The file reads back as a deployment history, and its models answer as the stored ones do.
    const history = readDeploymentsFile(out);
    expect(history.changes.map((c) => c.at)).toEqual([1, 4, 6, 7].map((r) => Date.parse(at(r))));
    const rows = creditData(5, 3).rows;
    expect(await loadModel(history.versions[2]!.artifact).predict(rows)).toEqual(
      await loadModel(stored[2]!.artifact as never).predict(rows),
    );
  });

  it('exports from the command line, and the replay serves what the history says', async () => {
    const url = provider === 'sqlite' ? `file:${db.config.url}` : db.config.url;
    const [stream, deployments, windows] = ['stream.jsonl', 'cli-deployments.json', 'windows.json'].map((f) =>
      path.join(dir, f),
    );
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/backtest.ts',
        'export',
        '--model',
        name,
        '--out',
        stream!,
        '--deployments-out',
        deployments!,
        '--windows-out',
        windows!,
      ],
      {
        encoding: 'utf8',
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { ...process.env, DATABASE_URL: url },
      },
    );
    expect(run.stderr).toMatch(
      /exported 4 deployment change\(s\) made by people and 3 version\(s\) .* \(3 change\(s\) by the agent left out\)/,
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/exported 3 recorded window\(s\)/);

    const policy = parsePolicy({});
    if (!policy.ok) throw new Error('policy');
    const history = readDeploymentsFile(deployments!);
    const file = readStreamFile(stream!, {
      schema: history.schema,
      task: history.task,
      classes: history.classes!,
    });
    // Each row says which version answered it, by its number, when the store knows.
    expect(file.rows.map((r) => r.version)).toEqual(data.rows.map((_, i) => (i % 2 === 0 ? 1 : null)));
    const report = await runBacktest({
      stream: file,
      policy: policy.policy,
      deployments: history,
      windows: readWindowsFile(windows!),
    });
    expect(report.input.replayedRows).toBe(ROWS);
    // The agent's windows, not the policy's one-minute ones: the same rows in each.
    expect(report.windows.map((w) => [w.startAt, w.endAt, w.summary.count])).toEqual(
      (await db.store.metricWindow.findMany({ where: { modelId }, orderBy: { seq: 'asc' } })).map((w) => [
        w.startAt.toISOString(),
        w.endAt.toISOString(),
        200,
      ]),
    );
    expect(report.versions.map((v) => [v.version, v.origin])).toEqual([
      [1, 'deployed'],
      [2, 'deployed'],
      [3, 'deployed'],
    ]);
    // Every change came before the traffic: the replay starts on the last one (version 1, revision 4 of 4).
    expect(report.windows[0]!.serving).toEqual({ revision: 4, mode: 'serving', production: 1, fallback: 2 });
    // The rows were scored by version 1, not by their recorded answer ('0' with confidence 0.8 for all).
    const v1 = loadModel(history.versions[0]!.artifact);
    const outputs = await v1.predict(data.rows);
    const correct = outputs.filter((o, i) => o.prediction === String(data.labels[i])).length;
    expect(report.windows.reduce((sum, w) => sum + (w.summary.correct ?? 0), 0)).toBe(correct);
    expect(report.windows.reduce((sum, w) => sum + w.summary.labelled, 0)).toBe(ROWS);
    expect(report.windows.every((w) => w.summary.meanConfidence !== 0.8)).toBe(true);
  }, 60_000);
});
