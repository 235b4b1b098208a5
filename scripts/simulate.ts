// Writes a simulated prediction stream of a demo model under a failure scenario to a JSONL or CSV file
// (formats: lib/sim/writers.ts). Run `npx tsx scripts/simulate.ts --help` for the options.
import { parseArgs } from 'node:util';
import { jsonClient } from '../lib/api-client.ts';
import { DEMO_MODELS, type DemoModel, findDemoModel } from '../lib/sim/demo-models.ts';
import { drive, oracleScorer } from '../lib/sim/drive.ts';
import { findScenario, SCENARIOS, type Scenario } from '../lib/sim/scenarios.ts';
import {
  DEFAULT_RATE_PER_SECOND,
  DEFAULT_START_TIME,
  generateStream,
  type SimEvent,
  type StreamOptions,
} from '../lib/sim/stream.ts';
import { formatFromPath, STREAM_FORMATS, type StreamFormat, writeStreamFile } from '../lib/sim/writers.ts';

const DEFAULT_COUNT = 5000;
const DEFAULT_SEED = 1;
/** Runs at least this long report progress on stderr, every tenth of the way. */
const PROGRESS_MIN_COUNT = 50_000;

const DEFAULT_LABEL_DELAY_MS = 1000;

const USAGE = `usage: npx tsx scripts/simulate.ts --scenario <id> [--model <name>] --out <file.jsonl|file.csv> [options]
       npx tsx scripts/simulate.ts --scenario <id> [--model <name>] --api <url> [--key <key>] [options]
       npx tsx scripts/simulate.ts --list

  --scenario <id>   failure scenario (see --list)
  --model <name>    demo model: ${DEMO_MODELS.map((m) => m.name).join(', ')}; may be left out when the scenario
                    applies to one model only
  --out <file>      file to write; its extension (.jsonl or .csv) picks the format
  --api <url>       or drive a running Homeostat API live, at --rate requests per second: predictions,
                    then their labels --label-delay-ms later (default ${DEFAULT_LABEL_DELAY_MS})
  --key <key>       API key for --api (default: HOMEOSTAT_API_KEY); needs the ingest role
  --as <name>       registered model to send to (default: the demo model's name)
  --via <how>       gateway (POST /predict: Homeostat serves the model) or logged (POST /predictions,
                    scored here by the demo model's ground truth); default gateway
  --format <f>      ${STREAM_FORMATS.join(' or ')}, when the file name does not say
  --count <n>       number of events (default ${DEFAULT_COUNT})
  --seed <n>        integer seed; the same seed writes the same file (default ${DEFAULT_SEED})
  --rate <r>        mean events per second of healthy traffic (default ${DEFAULT_RATE_PER_SECOND})
  --start <time>    ISO 8601 start of the stream (default ${DEFAULT_START_TIME})
  --list            print the scenarios with their onset and the expected agent response
  -h, --help        print this help`;

class UsageError extends Error {}

type Target =
  | { kind: 'file'; out: string; format: StreamFormat }
  | {
      kind: 'api';
      url: string;
      key: string;
      modelName: string;
      via: 'gateway' | 'logged';
      labelDelayMs: number;
    };

interface Run {
  stream: StreamOptions;
  events: Iterable<SimEvent>;
  target: Target;
}

type Command = { kind: 'help' } | { kind: 'list' } | ({ kind: 'run' } & Run);

function integer(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${flag} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

function resolveModel(name: string | undefined, scenario: Scenario): DemoModel {
  const known = DEMO_MODELS.map((m) => m.name).join(', ');
  if (name !== undefined) {
    const model = findDemoModel(name);
    if (!model) throw new UsageError(`unknown model "${name}" (known: ${known})`);
    return model;
  }
  const [only, ...others] = scenario.models;
  if (only === undefined || others.length > 0) {
    throw new UsageError(
      `scenario "${scenario.id}" applies to ${scenario.models.join(' and ')}: pass --model`,
    );
  }
  return findDemoModel(only)!;
}

function resolveFormat(out: string, format: string | undefined): StreamFormat {
  const known = STREAM_FORMATS.join(', ');
  if (format !== undefined) {
    const match = STREAM_FORMATS.find((f) => f === format);
    if (!match) throw new UsageError(`unknown format "${format}" (known: ${known})`);
    return match;
  }
  const fromPath = formatFromPath(out);
  if (!fromPath) {
    throw new UsageError(`cannot tell the format of "${out}" from its extension: pass --format (${known})`);
  }
  return fromPath;
}

function parseCommand(argv: string[]): Command {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { kind: 'help' };
  if (values.list) return { kind: 'list' };
  if (values.scenario === undefined) throw new UsageError('--scenario is required (see --list)');
  const scenario = findScenario(values.scenario);
  if (!scenario) {
    throw new UsageError(
      `unknown scenario "${values.scenario}" (known: ${SCENARIOS.map((s) => s.id).join(', ')})`,
    );
  }
  if ((values.out === undefined) === (values.api === undefined)) {
    throw new UsageError('give either --out <file> or --api <url>');
  }
  const stream: StreamOptions = {
    model: resolveModel(values.model, scenario),
    scenario,
    seed: integer('seed', values.seed, DEFAULT_SEED),
    count: integer('count', values.count, DEFAULT_COUNT),
    startTime: values.start,
    ratePerSecond: values.rate === undefined ? undefined : Number(values.rate),
  };
  const target =
    values.out !== undefined ? fileTarget(values.out, values.format) : apiTarget(values, stream.model);
  try {
    // generateStream checks the options (ranges, model and scenario that fit) before it yields anything.
    return { kind: 'run', stream, events: generateStream(stream), target };
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

function fileTarget(out: string, format: string | undefined): Target {
  return { kind: 'file', out, format: resolveFormat(out, format) };
}

function apiTarget(values: ReturnType<typeof parse>['values'], model: DemoModel): Target {
  const key = values.key ?? process.env.HOMEOSTAT_API_KEY;
  if (!key) throw new UsageError('--api needs an API key: --key or HOMEOSTAT_API_KEY');
  if (values.via !== undefined && values.via !== 'gateway' && values.via !== 'logged') {
    throw new UsageError(`--via must be gateway or logged, got "${values.via}"`);
  }
  try {
    new URL(values.api!);
  } catch {
    throw new UsageError(`--api must be a URL such as http://127.0.0.1:3000, got "${values.api}"`);
  }
  return {
    kind: 'api',
    url: values.api!.replace(/\/$/, ''),
    key,
    modelName: values.as ?? model.name,
    via: (values.via as 'gateway' | 'logged' | undefined) ?? 'gateway',
    labelDelayMs: integer('label-delay-ms', values['label-delay-ms'], DEFAULT_LABEL_DELAY_MS),
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      scenario: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      api: { type: 'string' },
      key: { type: 'string' },
      as: { type: 'string' },
      via: { type: 'string' },
      'label-delay-ms': { type: 'string' },
      format: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      rate: { type: 'string' },
      start: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function scenarioTable(): string {
  const header = ['id', 'models', 'onset', 'duration', 'finding', 'response', 'title'];
  const rows = SCENARIOS.map((s) => [
    s.id,
    s.models.join(','),
    String(s.onset),
    s.duration === undefined ? '-' : String(s.duration),
    s.expected.finding,
    s.expected.response,
    s.title,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((cells) =>
      cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('  '),
    )
    .join('\n');
}

function* withProgress(events: Iterable<SimEvent>, count: number): Generator<SimEvent> {
  const step = Math.ceil(count / 10);
  for (const event of events) {
    yield event;
    const done = event.seq + 1;
    if (done % step === 0 && done < count) console.error(`simulate: ${done}/${count} events`);
  }
}

async function run({ stream, events, target }: Run): Promise<void> {
  const { model, scenario, count, seed } = stream;
  if (count <= scenario.onset) {
    console.error(
      `simulate: note: "${scenario.id}" starts at event ${scenario.onset}, after the last of ${count} events`,
    );
  }
  if (target.kind === 'api') return driveApi(stream, events, target);
  const { out, format } = target;
  const started = performance.now();
  await writeStreamFile(
    out,
    count >= PROGRESS_MIN_COUNT ? withProgress(events, count) : events,
    format,
    model.schema,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.error(
    `simulate: wrote ${count} events of ${model.name} / ${scenario.id} (seed ${seed}) to ${out} in ${seconds} s`,
  );
}

/** Sends the stream to a live API until it ends or Ctrl-C, reporting progress every 10 s. */
async function driveApi(
  stream: StreamOptions,
  events: Iterable<SimEvent>,
  target: Extract<Target, { kind: 'api' }>,
) {
  const call = jsonClient(target.url, { authorization: `Bearer ${target.key}` });
  // An empty label batch is the cheapest request an ingest key may make that names the model: it is
  // refused (400) after the key and the model were checked, and changes nothing.
  const probe = await call('POST', `/v1/models/${target.modelName}/labels`, { labels: [] }).catch(
    (error: Error) => {
      throw new Error(`cannot reach ${target.url}: ${error.message}`);
    },
  );
  if (probe.status === 401 || probe.status === 403)
    throw new Error(`the API refused the key: ${probe.body?.error?.message}`);
  if (probe.status === 404) throw new Error(`model "${target.modelName}" is not registered at ${target.url}`);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  const stats = { predictions: 0, labels: 0 };
  const rate = stream.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
  const progress = setInterval(
    () =>
      console.error(
        `simulate: sent ${stats.predictions}/${stream.count} predictions, ${stats.labels} labels`,
      ),
    10_000,
  );
  try {
    await drive(
      {
        call,
        modelName: target.modelName,
        events: events[Symbol.iterator](),
        serve: target.via === 'gateway' ? 'gateway' : oracleScorer(stream.model),
        ratePerSecond: rate,
        labelDelayMs: target.labelDelayMs,
        idPrefix: `sim-${Date.now().toString(36)}`,
        signal: stop.signal,
        onError: (message) => console.error(`simulate: ${message}`),
      },
      stats,
    );
  } finally {
    clearInterval(progress);
  }
  console.error(
    `simulate: sent ${stats.predictions} predictions and ${stats.labels} labels to ${target.url}`,
  );
}

/** Runs the command line and returns the exit code: 0 done, 1 failed, 2 bad usage. */
export async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`simulate: ${error.message}\nrun with --help for the options`);
    return 2;
  }
  if (command.kind === 'help') console.log(USAGE);
  else if (command.kind === 'list') console.log(scenarioTable());
  else {
    try {
      await run(command);
    } catch (error) {
      console.error(`simulate: ${(error as Error).message}`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
