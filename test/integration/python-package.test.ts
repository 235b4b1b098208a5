// The Python training worker's own tests (python/tests, pytest) run in the project's .venv as part of the
// suite, so CI runs them; and the pipelines a policy may name are the ones the package has.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { pythonExecutable } from '../../lib/models/python-fit.ts';
import { PYTHON_PIPELINES, PYTHON_TASK_QUEUE } from '../../lib/models/trainers.ts';

const run = promisify(execFile);
const cwd = path.join(REPO_ROOT, 'python');

describe('the Python training worker package', () => {
  it('passes its pytest suite', { timeout: 300_000 }, async () => {
    const result = await run(pythonExecutable(), ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], {
      cwd,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`pytest failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
    });
    expect(result.stdout).toMatch(/\d+ passed/);
    expect(result.stdout).not.toMatch(/failed|error/i);
  });

  it('knows the pipelines and the task queue the TypeScript side names', async () => {
    const { stdout } = await run(
      pythonExecutable(),
      [
        '-c',
        'import json; from homeostat_trainer import TASK_QUEUE; from homeostat_trainer.pipelines import PIPELINES; print(json.dumps({"queue": TASK_QUEUE, "pipelines": list(PIPELINES)}))',
      ],
      { cwd },
    );
    expect(JSON.parse(stdout)).toEqual({ queue: PYTHON_TASK_QUEUE, pipelines: [...PYTHON_PIPELINES] });
  });
});
