// Recorded window boundaries for a backtest: the windows the live agent measured (MetricWindow startAt
// and endAt, one per agent cycle), so that a replay judges exactly the rows the agent judged instead of
// windows cut by the policy. The agent's cycle is its sleep plus the cycle's own work, so live windows
// are a little longer than `window.every` and drift against windows cut from the first row; findings
// near a detection threshold can then differ by a window. `export --windows-out` writes one;
// `--windows` replays it.
import fs from 'node:fs';
import { z } from 'zod';
import type { WindowBounds } from '../brain/windows.ts';
import type { Store } from '../db/client.ts';
import { describeIssues } from '../models/index.ts';
import { findModel } from '../registry/versions.ts';
import { BacktestInputError, readJsonFile } from './stream-file.ts';

export const WINDOWS_FORMAT = 1;

export interface WindowsFile {
  format: typeof WINDOWS_FORMAT;
  model: string;
  /** In order; each window is (startAt, endAt], ISO 8601 on the stream's clock. */
  windows: { seq: number; startAt: string; endAt: string }[];
}

export type { WindowBounds } from '../brain/windows.ts';

/** A time as the backtest's JSON files write it. */
export const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time');
const fileSchema = z.strictObject({
  format: z.literal(WINDOWS_FORMAT),
  model: z.string().min(1),
  windows: z.array(z.strictObject({ seq: z.number().int().min(0), startAt: isoTime, endAt: isoTime })).min(1),
});

/** Validates recorded windows: each must end after it starts, and none may overlap the one before. */
export function parseWindows(json: unknown, file: string): WindowBounds[] {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success)
    throw new BacktestInputError(`${file}: not a windows file: ${describeIssues(parsed.error)}`);
  let previousEnd = Number.NEGATIVE_INFINITY;
  return parsed.data.windows.map((w, i) => {
    const startAt = Date.parse(w.startAt);
    const endAt = Date.parse(w.endAt);
    if (endAt <= startAt) throw new BacktestInputError(`${file}: windows.${i}: endAt is not after startAt`);
    if (startAt < previousEnd)
      throw new BacktestInputError(`${file}: windows.${i}: starts before the window above it ends`);
    previousEnd = endAt;
    return { startAt, endAt };
  });
}

export function readWindowsFile(file: string): WindowBounds[] {
  return parseWindows(readJsonFile(file, 'windows'), file);
}

/** Writes the windows the model's agent measured, in order. */
export async function exportWindows(store: Store, modelName: string, out: string): Promise<number> {
  const model = await findModel(store, modelName);
  const rows = await store.metricWindow.findMany({
    where: { modelId: model.id },
    orderBy: { seq: 'asc' },
    select: { seq: true, startAt: true, endAt: true },
  });
  const file: WindowsFile = {
    format: WINDOWS_FORMAT,
    model: model.name,
    windows: rows.map((w) => ({
      seq: w.seq,
      startAt: w.startAt.toISOString(),
      endAt: w.endAt.toISOString(),
    })),
  };
  fs.writeFileSync(out, `${JSON.stringify(file)}\n`);
  return rows.length;
}
