// The demo's silent phase (lib/sim/drive.ts quietFor, which lib/sim/demo-schedule.ts waits on) ends on time even when a garbage collection
// runs during it: a wait on nothing but Node's AbortSignal.timeout never ends once the signal is collected,
// which stopped the chaos bench's traffic for good at the first silent phase.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';
import { quietFor } from '../../lib/sim/drive.ts';

const run = promisify(execFile);

it('a silent phase ends after its time although a garbage collection ran during it', async () => {
  const module = pathToFileURL(path.join(REPO_ROOT, 'lib', 'sim', 'drive.ts')).href;
  const script = `
    import { quietFor } from ${JSON.stringify(module)};
    const started = Date.now();
    setTimeout(() => globalThis.gc(), 50);
    const guard = setTimeout(() => { console.log('hung'); process.exit(0); }, 5000);
    await quietFor(300, new AbortController().signal);
    clearTimeout(guard);
    console.log('ended after', Date.now() - started);
  `;
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: REPO_ROOT },
  );
  expect(stdout).toMatch(/^ended after \d+/);
  expect(Number(stdout.trim().split(' ').at(-1))).toBeGreaterThanOrEqual(299);
}, 60_000);

it('a silent phase ends at once when the demo stops', async () => {
  const stop = new AbortController();
  const started = Date.now();
  const quiet = quietFor(60_000, stop.signal);
  stop.abort();
  await quiet;
  expect(Date.now() - started).toBeLessThan(5000);
});
