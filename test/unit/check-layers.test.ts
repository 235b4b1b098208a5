// scripts/check-layers.ts on small fixture trees (one violation of each rule, and what must not count)
// and on the repository itself, which must pass.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayers, formatViolation } from '../../scripts/check-layers.ts';

const REPO = path.join(import.meta.dirname, '..', '..');
const trees: string[] = [];

/** A temporary source tree of the given files (path → text). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'check-layers-'));
  trees.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}
afterEach(() => {
  for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A clean bundle: the entry, a value import, and type-only imports of modules that load zod. */
const CLEAN = {
  'workflows/index.ts': "export { agent } from './agent.ts';\n",
  'workflows/agent.ts': [
    "import type { Policy } from '../lib/policy.ts';",
    "import type { Schema } from 'zod';",
    "import { DEFAULTS } from '../lib/defaults.ts';",
    'export const agent = (p: Policy, s?: Schema) => DEFAULTS;',
  ].join('\n'),
  'lib/policy.ts':
    "import { z } from 'zod';\nexport const policySchema = z.object({});\nexport type Policy = {};\n",
  'lib/defaults.ts': 'export const DEFAULTS = {};\n',
  // Activities may load anything, and import from lib/.
  'activities/policy.ts': "import { policySchema } from '../lib/policy.ts';\nimport fs from 'node:fs';\n",
};

describe('check-layers', () => {
  it('passes a tree that keeps both rules (type imports load nothing)', () => {
    expect(checkLayers(tree(CLEAN))).toEqual([]);
  });

  it('fails a lib/ file that imports from a layer above it, even as a type', () => {
    const root = tree({
      ...CLEAN,
      'lib/domain.ts': "// vocabulary\nimport type { AgentState } from '../workflows/types.ts';\n",
    });
    const violations = checkLayers(root);
    expect(violations.map(formatViolation)).toEqual([
      "lib/domain.ts:2: import type { AgentState } from '../workflows/types.ts';\n" +
        '  lib/ must not import from workflows/ (lib/ is the bottom layer: move the shared code down)',
    ]);
  });

  it('fails a module the bundle reaches by value imports when it loads zod, naming the path to it', () => {
    const root = tree({
      ...CLEAN,
      'lib/defaults.ts': "import { ranges } from './ranges.ts';\nexport const DEFAULTS = ranges;\n",
      'lib/ranges.ts': "import { z } from 'zod';\nexport const ranges = z.number();\n",
    });
    expect(checkLayers(root).map(formatViolation)).toEqual([
      "lib/ranges.ts:1: import { z } from 'zod';\n" +
        '  the workflow bundle must not load zod (validation belongs to the API and activities) ' +
        '(reached by value imports: workflows/index.ts → workflows/agent.ts → lib/defaults.ts → lib/ranges.ts); ' +
        'import it as a type, or move the value to a module without it',
    ]);
  });

  it.each([
    ["import { readFileSync } from 'node:fs';", 'a Node built-in'],
    ["import crypto from 'crypto';", 'a Node built-in'],
    ["import { Client } from '@temporalio/client';", '@temporalio/client'],
    ["import { Context } from '@temporalio/activity';", '@temporalio/activity'],
    ["import { PrismaClient } from '@prisma/client';", 'Prisma'],
    ["import { PrismaClient } from '../generated/prisma-sqlite/client.ts';", 'Prisma'],
  ])('fails the bundle on %s', (line, what) => {
    const root = tree({ ...CLEAN, 'lib/defaults.ts': `${line}\nexport const DEFAULTS = {};\n` });
    const [violation, ...more] = checkLayers(root);
    expect(more).toEqual([]);
    expect(violation).toMatchObject({ file: 'lib/defaults.ts', line: 1, importText: line });
    expect(violation!.rule).toContain(`must not load ${what}`);
  });

  it('passes the repository, and its command line exits 1 on a violation', { timeout: 60_000 }, () => {
    expect(checkLayers(REPO).map(formatViolation)).toEqual([]);
    const broken = tree({ ...CLEAN, 'lib/x.ts': "import { app } from '../api/app.ts';\n" });
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-layers.ts', broken], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("lib/x.ts:1: import { app } from '../api/app.ts';");
  });
});
