// Every `npm run <script>` the documentation, the scripts' own help texts and the processes' messages tell a
// user to type must exist: a missing script is the first thing a new user hits ("Missing script: keys").
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/db/config.ts';

const scripts = Object.keys(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts);

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => ext.test(f))
    .map((f) => path.join(dir, f));
}

const places = [
  'README.md',
  ...filesUnder('docs', /\.md$/),
  ...filesUnder('examples', /\.(md|ts)$/),
  ...filesUnder('python', /\.(md|py)$/),
  ...['scripts', 'lib', 'api', 'worker', 'bench'].flatMap((d) => filesUnder(d, /\.(ts|sh)$/)),
];
const named = places.flatMap((file) =>
  [...readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => ({
    file,
    script: m[1] as string,
  })),
);

describe('commands the docs name', () => {
  it('finds the commands it checks (README and docs name several)', () => {
    expect(named.filter((n) => n.file === 'README.md').map((n) => n.script)).toEqual(
      expect.arrayContaining(['demo', 'keys', 'simulate', 'backtest', 'worker:python', 'example:sklearn']),
    );
  });

  it.each([...new Set(named.map((n) => n.script))])('npm run %s exists in package.json', (script) => {
    const where = named.filter((n) => n.script === script).map((n) => n.file);
    expect(scripts, `named in ${[...new Set(where)].join(', ')}`).toContain(script);
  });
});
