import { availableParallelism } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Test folders by how long their files run, the longest first (see LongestFirst). */
const FOLDERS_BY_DURATION = ['workflow', 'integration', 'browser', 'store', 'replay', 'unit'];

/**
 * Starts the long files first, so that the short ones fill in beside them at the end instead of a long
 * one running alone after everything else. Vitest orders by the durations of the last run when it knows
 * every file's; on a fresh clone (CI) it knows none and orders by file size, which put the longest files
 * (differential.test.ts, fuzz.test.ts: short files that run for minutes) among the last. Then the folder
 * decides first: a workflow or integration test starts servers and runs for minutes, a unit test does not.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const timed = files.every((f) =>
      this.ctx.cache.getFileTestResults(`${f.project.name}:${path.relative(root, f.moduleId)}`),
    );
    if (timed) return sorted;
    const rank = (f: TestSpecification) => {
      const folder = path.relative(path.join(root, 'test'), f.moduleId).split(path.sep)[0]!;
      const i = FOLDERS_BY_DURATION.indexOf(folder);
      return i < 0 ? FOLDERS_BY_DURATION.length : i;
    };
    // Stable: within a folder, Vitest's own order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

// One runner for the whole suite. Unit tests are fast and parallel; tests that start a Temporal
// server or a database set their own timeouts and live under test/workflow, test/integration, test/store.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files run at least two at a time. Vitest's default (cores - 1) ran them one after another on a
    // 2-core machine, where a file often waits on PostgreSQL, a Temporal server or a child process
    // rather than using its core. Files are independent: each has its own databases, servers and ports.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: LongestFirst },
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
  },
});
