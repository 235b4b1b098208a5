// The stack `npm run bench:chaos` breaks: a private PostgreSQL cluster (initdb into a temporary folder, its
// own port, trust auth: stopping it hard harms nobody else's database), a Temporal dev server with its
// state in a file there, and Homeostat's worker and API as child processes — each one that can be killed
// (kill -9; PostgreSQL by `pg_ctl stop -m immediate`, its own crash) and started again on the same
// ports and data, as after a power cut.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import type { JsonCall } from '../lib/api-client.ts';
import { jsonClient } from '../lib/api-client.ts';
import { rotateApiKey } from '../lib/auth/keys.ts';
import { createStore, type Store } from '../lib/db/client.ts';
import type { DatabaseConfig } from '../lib/db/config.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { devServerSearchAttributeArgs } from '../lib/search-attributes.ts';
import { temporalCliPath } from '../lib/temporal-binaries.ts';
import { type RunningProcess, startEntryPoint } from '../test/helpers/processes.ts';
import { freePort } from '../test/helpers/temporal.ts';

const run = promisify(execFile);

export const FAULT_KINDS = ['worker', 'api', 'temporal', 'postgres'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Restarts go bottom-up: what the others connect to first. */
const RESTART_ORDER: readonly FaultKind[] = ['postgres', 'temporal', 'worker', 'api'];

export interface ChaosStackOptions {
  /** HOMEOSTAT_CYCLE_INTERVAL of the agent. */
  cycleInterval: string;
  log: (line: string) => void;
}

/** The PostgreSQL server binaries of the machine (Debian puts them under /usr/lib/postgresql/<major>/bin). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const major = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((d) => fs.existsSync(path.join(root, d, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))[0]
    : undefined;
  if (!major) throw new Error(`no PostgreSQL server binaries under ${root} (apt-get install postgresql)`);
  return path.join(root, major, 'bin');
}

/** PostgreSQL refuses to run as root: as root, its tools run as the postgres user. */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

class PrivatePostgres {
  private readonly bin = postgresBin();
  readonly data: string;
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.data = path.join(dir, 'pgdata');
  }
  private pgCtl(args: string[]) {
    const [command, argv] = asPostgresUser(path.join(this.bin, 'pg_ctl'), ['-D', this.data, ...args]);
    return run(command, argv, { timeout: 120_000 });
  }
  async init() {
    if (process.getuid?.() === 0) await run('chown', ['postgres', this.dir]);
    const [command, argv] = asPostgresUser(path.join(this.bin, 'initdb'), [
      '-D',
      this.data,
      '-A',
      'trust',
      '-U',
      'postgres',
    ]);
    await run(command, argv);
  }
  start() {
    return this.pgCtl([
      '-l',
      path.join(this.dir, 'postgres.log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
      '-w',
      'start',
    ]);
  }
  /** The hard stop: every backend is killed at once, and the next start recovers from the WAL. */
  crash() {
    return this.pgCtl(['stop', '-m', 'immediate']);
  }
  stop() {
    return this.pgCtl(['stop', '-m', 'fast']);
  }
  url(database: string) {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }
}

/**
 * A JSON call that never throws: a refused or cut connection answers status 0, as a dead API would. The
 * deadline only guards against a request that never ends; training a version in the API takes seconds.
 */
function resilient(call: JsonCall, timeoutMs = 180_000): JsonCall {
  return async (method, p, body) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(method, p, body),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      return { status: 0, body: { error: { message: String(error) } }, headers: new Headers() };
    } finally {
      clearTimeout(timer);
    }
  };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready in ${timeoutMs / 1000} s`);
}

export class ChaosStack {
  readonly database: DatabaseConfig;
  readonly call: JsonCall;
  /** Components that died without being killed, per kind (restarted at the next round). */
  readonly unexpectedExits: Record<FaultKind, number> = { worker: 0, api: 0, temporal: 0, postgres: 0 };
  private temporal: ChildProcess | null = null;
  private worker: RunningProcess | null = null;
  private api: RunningProcess | null = null;
  private postgresUp = false;
  private readonly killed = new Set<unknown>();

  private constructor(
    private readonly dir: string,
    private readonly postgres: PrivatePostgres,
    private readonly ports: { temporal: number; api: number },
    private readonly env: Record<string, string>,
    apiKey: string,
    private readonly options: ChaosStackOptions,
  ) {
    this.database = { provider: 'postgresql', url: postgres.url('homeostat') };
    this.call = resilient(jsonClient(`http://127.0.0.1:${ports.api}`, { authorization: `Bearer ${apiKey}` }));
  }

  static async start(options: ChaosStackOptions): Promise<ChaosStack> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-chaos-'));
    const [pgPort, temporalPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const postgres = new PrivatePostgres(dir, pgPort);
    options.log(`private PostgreSQL in ${dir} on port ${pgPort}`);
    await postgres.init();
    await postgres.start();
    const admin = new pg.Client({ connectionString: postgres.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE homeostat');
    await admin.end();
    const database: DatabaseConfig = { provider: 'postgresql', url: postgres.url('homeostat') };
    await migrateDatabase(database);
    const store = await createStore(database);
    const apiKey = await rotateApiKey(store, 'chaos', 'admin');
    await store.$disconnect();
    const env = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      HOMEOSTAT_CYCLE_INTERVAL: options.cycleInterval,
      HOMEOSTAT_TASK_QUEUE: 'homeostat-chaos',
      PORT: String(apiPort),
      // A registered model's missing agent is started within seconds, not the default minute.
      HOMEOSTAT_RECONCILE_SECONDS: '5',
    };
    const stack = new ChaosStack(
      dir,
      postgres,
      { temporal: temporalPort, api: apiPort },
      env,
      apiKey,
      options,
    );
    stack.postgresUp = true;
    for (const kind of ['temporal', 'worker', 'api'] as const) await stack.restart(kind);
    return stack;
  }

  /** A store on the private database; the caller disconnects it (a crash leaves no pool half-dead). */
  openStore(): Promise<Store> {
    return createStore(this.database);
  }

  /** Kills one component the hard way. */
  async kill(kind: FaultKind): Promise<void> {
    if (kind === 'postgres') {
      await this.postgres.crash();
      this.postgresUp = false;
      return;
    }
    const child =
      kind === 'temporal' ? this.temporal : kind === 'worker' ? this.worker?.child : this.api?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.killed.add(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the component again (if it is down) and waits until it is ready. */
  async restart(kind: FaultKind): Promise<void> {
    if (kind === 'postgres') {
      if (!this.postgresUp) await this.postgres.start();
      this.postgresUp = true;
    } else if (kind === 'temporal') {
      if (this.isRunning(this.temporal)) return;
      this.temporal = this.watch('temporal', this.spawnTemporal());
      const address = this.env.TEMPORAL_ADDRESS!;
      await waitUntil('Temporal', async () => {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } finally {
          await connection.close();
        }
      });
    } else if (kind === 'worker') {
      if (this.isRunning(this.worker?.child)) return;
      this.worker = startEntryPoint('worker/main.ts', this.env);
      this.watch('worker', this.worker.child);
      await this.worker.waitForLog('worker started', 180_000);
    } else {
      if (this.isRunning(this.api?.child)) return;
      this.api = startEntryPoint('api/server.ts', this.env);
      this.watch('api', this.api.child);
      await this.api.waitForLog('api listening', 120_000);
    }
  }

  /** Restarts the given components in dependency order, and any that died on their own. */
  async restartAll(kinds: readonly FaultKind[]): Promise<void> {
    for (const kind of RESTART_ORDER) {
      const died =
        kind !== 'postgres' &&
        !this.isRunning(
          kind === 'temporal' ? this.temporal : kind === 'worker' ? this.worker?.child : this.api?.child,
        );
      if (kinds.includes(kind) || died) await this.restart(kind);
    }
  }

  /** Stops everything; `keep` leaves the folder (database, Temporal's file, logs) for a post-mortem. */
  async close({ keep = false } = {}): Promise<void> {
    for (const child of [this.api?.child, this.worker?.child, this.temporal]) {
      if (child && this.isRunning(child)) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        this.killed.add(child);
        child.kill('SIGKILL');
        await exited;
      }
    }
    if (this.postgresUp) await this.postgres.stop().catch(() => {});
    if (keep) this.options.log(`kept ${this.dir} (pg_ctl -D ${this.postgres.data} start to look inside)`);
    else fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private spawnTemporal(): ChildProcess {
    const log = fs.openSync(path.join(this.dir, 'temporal.log'), 'a');
    return spawn(
      temporalCliPath(),
      [
        'server',
        'start-dev',
        '--db-filename',
        path.join(this.dir, 'temporal.db'),
        '--ip',
        '127.0.0.1',
        '--port',
        String(this.ports.temporal),
        '--headless',
        '--log-level',
        'error',
        ...devServerSearchAttributeArgs(),
      ],
      { stdio: ['ignore', log, log] },
    );
  }

  private isRunning(child: ChildProcess | null | undefined): boolean {
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  /**
   * Keeps each process's log in the folder (kept when the run found a violation), and counts a death
   * nobody caused: a component that cannot stand an outage of another is a finding.
   */
  private watch(kind: FaultKind, child: ChildProcess): ChildProcess {
    const running = kind === 'worker' ? this.worker : kind === 'api' ? this.api : null;
    child.once('exit', (code, signal) => {
      const output = running?.output() ?? '';
      if (output) fs.appendFileSync(path.join(this.dir, `${kind}.log`), output);
      if (this.killed.has(child)) return;
      this.unexpectedExits[kind]++;
      this.options.log(`${kind} exited on its own (${signal ?? code}): ${output.slice(-1500)}`);
    });
    return child;
  }
}
