// The dashboard's fleet page at scale, loaded in a real browser: N models are written straight into a
// fresh database (bench/fleet-seed.ts, as bench/fleet-api.ts does), a Temporal dev server runs (no agent
// does), the API runs as its own process
// (api/server.ts, NODE_ENV=production), the dashboard is built with `next build` and served by
// `next start` (showing the fleet to nobody signed in with its viewer key, as a shared screen would), and
// Debian's Chromium, driven by playwright-core as the browser test drives it, loads the page: the first
// page, a page from the middle (its cursor), a search, a health filter and an incident-kind filter, each
// `--loads` times after one warm-up load. A load is a full navigation (the page rendered on the server);
// its time is the browser's own Navigation Timing: from the start of the navigation to the end of the
// load event, and to the end of the HTML response. Every load checks that the page shows the models the
// API answers for the same query, so an error page is never timed as a page.
// Issue 16 item 5: p95 under 1 s with 1,000 models.
//
//   npm run bench:fleet-page -- [--models 100,1000] [--windows 60] [--loads 20] [--db sqlite,postgresql]
//   npm run bench:fleet-page -- --doc   (the docs section again from bench/results/fleet-page.json)
//
// Writes bench/results/fleet-page.json and the "## Fleet page" section of docs/benchmarks.md from it.
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { FLEET_PAGE_SIZE } from '../dashboard/lib/fleet-query.ts';
import { jsonClient } from '../lib/api-client.ts';
import type { DatabaseProvider } from '../lib/db/config.ts';
import { authHeader } from '../test/helpers/api.ts';
import { launchChromiumProfile } from '../test/helpers/browser.ts';
import { buildDashboard, startDashboard } from '../test/helpers/dashboard.ts';
import { createTestDatabase } from '../test/helpers/db.ts';
import { startEntryPoint } from '../test/helpers/processes.ts';
import { startDevServer } from '../test/helpers/temporal.ts';
import {
  FLEET_OPTIONS,
  fleetSettings,
  GOAL_P95_MS,
  publishRun,
  round,
  runContext,
  seedFleet,
  summary,
  timed,
} from './fleet-seed.ts';

const { values: args } = parseArgs({
  options: {
    ...FLEET_OPTIONS,
    // Both databases in one run, so the docs compare them on the same machine state.
    db: { type: 'string', default: 'sqlite,postgresql' },
    loads: { type: 'string', default: '20' },
  },
});
const { sizes: SIZES, windows: WINDOWS } = fleetSettings(args);
const PROVIDERS = args.db.split(',').map((name) => {
  if (name !== 'sqlite' && name !== 'postgresql')
    throw new Error(`--db: "${name}" is neither sqlite nor postgresql`);
  return name as DatabaseProvider;
});
const LOADS = Number(args.loads);
const COMMAND = `npm run bench:fleet-page -- --models ${args.models} --windows ${WINDOWS} --loads ${LOADS} --db ${args.db}`;
/** The dashboard's page size, which its fleet page asks the API for. */
const PAGE_SIZE = Number(FLEET_PAGE_SIZE);

/** What is loaded: the page's query string, by name. The middle page starts after the fleet's middle model. */
function scenarios(models: number): { name: string; query: string }[] {
  const middle = `model-${String(Math.floor(models / 2) - 1).padStart(5, '0')}`;
  return [
    { name: 'first page', query: '' },
    { name: 'a page from the middle', query: `cursor=after.${middle}` },
    { name: 'search "42"', query: 'search=42' },
    { name: 'health: healthy', query: 'health=healthy' },
    { name: 'open incident: data_quality', query: 'incidentKind=data_quality' },
  ];
}

/** Navigation Timing of the page's last navigation, read in the browser once its load event has ended. */
async function navigationTiming(page: Page): Promise<{ loadMs: number; responseMs: number }> {
  // Evaluated in the page: the benchmark is type-checked without the DOM's types.
  const read = `(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return n && n.loadEventEnd > 0 ? { loadMs: n.loadEventEnd - n.startTime, responseMs: n.responseEnd - n.startTime } : null;
  })()`;
  for (;;) {
    const timing = (await page.evaluate(read)) as { loadMs: number; responseMs: number } | null;
    if (timing) return timing;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function measure(
  provider: DatabaseProvider,
  models: number,
  chromium: Awaited<ReturnType<typeof launchChromiumProfile>>,
  temporalAddress: string,
) {
  const db = await createTestDatabase(provider);
  const api = startEntryPoint('api/server.ts', {
    DATABASE_URL: provider === 'sqlite' ? `file:${db.config.url}` : db.config.url,
    NODE_ENV: 'production',
    PORT: '0',
    TEMPORAL_ADDRESS: temporalAddress,
  });
  let dashboard: Awaited<ReturnType<typeof startDashboard>> | undefined;
  try {
    const seeding = await timed(() => seedFleet(db.store, models, WINDOWS));
    const apiUrl = String((await api.waitForLog('api listening')).url);
    const call = jsonClient(apiUrl, await authHeader(db.store));
    dashboard = await startDashboard(apiUrl, {
      NODE_ENV: 'production',
      HOMEOSTAT_DASHBOARD_API_KEY: (await authHeader(db.store, 'viewer')).authorization!.slice(
        'Bearer '.length,
      ),
    });
    const page = await chromium.context.newPage();
    const results = [];
    for (const { name, query } of scenarios(models)) {
      const apiPath = `/v1/fleet?limit=${PAGE_SIZE}${query ? `&${query}` : ''}`;
      const expected = (await call('GET', apiPath)).body as {
        models: { model: { name: string } }[];
        matching: number;
      };
      const expectedNames = expected.models.map((m) => m.model.name);
      const url = `${dashboard.url}/${query ? `?${query}` : ''}`;
      const load = async () => {
        await page.goto(url, { waitUntil: 'load' });
        const shown = await page
          .locator('tr[data-model]')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-model')));
        if (JSON.stringify(shown) !== JSON.stringify(expectedNames)) {
          throw new Error(`${url} showed ${shown.length} models, not the API's ${expectedNames.length}`);
        }
        return navigationTiming(page);
      };
      await load(); // warm-up: the browser caches the page's scripts, the API prepares its queries
      const timings = [];
      for (let i = 0; i < LOADS; i++) timings.push(await load());
      // The API's share: the same request alone, from this process (as the admin rather than the viewer key).
      const apiMs = [];
      for (let i = 0; i < LOADS; i++) apiMs.push((await timed(() => call('GET', apiPath))).ms);
      const scenario = {
        name,
        query,
        shown: expectedNames.length,
        matching: expected.matching,
        load: summary(timings.map((t) => t.loadMs)),
        response: summary(timings.map((t) => t.responseMs)),
        api: summary(apiMs),
        loads: timings.length,
      };
      console.log(JSON.stringify({ provider, models, ...scenario }));
      results.push(scenario);
    }
    await page.close();
    return { provider, models, seedSeconds: round(seeding.ms / 1000), ...seeding.value, scenarios: results };
  } finally {
    dashboard?.stop();
    await api.stop();
    await db.drop();
  }
}

async function run() {
  const start = os.loadavg().map(round);
  // Temporal runs, as in production, though no agent does: a row whose incident awaits approval asks
  // its agent for the approval, which an API without Temporal answers only after its connection gives
  // up (some 6 s), holding the browser's connections meanwhile.
  const [temporal] = await Promise.all([startDevServer(), buildDashboard()]);
  const chromium = await launchChromiumProfile();
  const sizes = [];
  try {
    for (const provider of PROVIDERS)
      for (const n of SIZES) sizes.push(await measure(provider, n, chromium, temporal.address));
  } finally {
    await chromium.close();
    await temporal.teardown();
  }
  return {
    command: COMMAND,
    ...runContext(),
    providers: PROVIDERS,
    windowsPerModel: WINDOWS,
    pageSize: PAGE_SIZE,
    goalP95Ms: GOAL_P95_MS,
    loadAverage: { start, end: os.loadavg().map(round) },
    sizes,
  };
}

function section(result: Awaited<ReturnType<typeof run>>): string {
  const rows = result.sizes.flatMap((s) =>
    s.scenarios.map(
      (c) =>
        `| ${s.provider} | ${s.models} | ${c.name} (\`${c.query || '/'}\`) | ${c.shown} of ${c.matching} | ${c.load.p50Ms} / ${c.load.p95Ms} / ${c.load.maxMs} | ${c.response.p50Ms} / ${c.response.p95Ms} | ${c.api.p50Ms} / ${c.api.p95Ms} | ${c.loads} | ${c.load.p95Ms < result.goalP95Ms ? 'yes' : 'no'} |`,
    ),
  );
  const [load1, load5, load15] = result.loadAverage.end;
  return [
    '## Fleet page',
    '',
    `Command: \`${result.command}\``,
    `(${result.date}, ${result.providers.join(' and ')}, ${result.cpus} × ${result.cpu}, Node ${result.node}; generated from`,
    '`bench/results/fleet-page.json` of the same run).',
    `The fleet of bench/fleet-api.ts (${result.windowsPerModel} windows and decisions per model, 1 % with an open`,
    'data-quality incident, about 1 % paused) written straight into a fresh database; a Temporal dev server',
    '(no agent runs); the API as its own process in production mode, the dashboard built by `next build` and served by `next start`, showing the fleet',
    "with its viewer key. Debian's Chromium (playwright-core, as in the browser test) loads each page as a full",
    `navigation (rendered on the server; ${result.pageSize} models a page, the dashboard's default) after one warm-up`,
    'load; "load" is Navigation Timing from the start of the navigation to the end of the load event, "HTML" to',
    'the end of the server\'s response; "API alone" times the page\'s `GET /v1/fleet` from the benchmark process',
    'after the loads. Every load checks that the page shows the models the API answers.',
    `Goal (issue 16 item 5): p95 under ${result.goalP95Ms} ms with 1,000 models, on each database.`,
    '',
    `**Machine load.** 2 cores shared with other engineers' builds and tests; load average at the start`,
    `${result.loadAverage.start.join(' / ')}, at the end ${load1} / ${load5} / ${load15}. Times are upper bounds for this hardware.`,
    '',
    '| database | N | page (query) | models shown of matching | load p50 / p95 / max (ms) | HTML p50 / p95 (ms) | API alone p50 / p95 (ms) | loads | goal met |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

await publishRun('fleet-page', args.doc, run, section, { before: '## Fleet API' });
