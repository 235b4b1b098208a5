// The "## Chaos" section of docs/benchmarks.md is the committed bench/results/chaos.json rendered by
// bench/chaos-report.ts: nobody typed its numbers, and a new run cannot leave one of the two behind.
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { CHAOS_RESULTS, renderChaosSection } from '../../bench/chaos-report.ts';
import { BENCHMARKS_DOC } from '../../bench/doc-section.ts';

it('docs/benchmarks.md holds the chaos section rendered from bench/results/chaos.json', () => {
  const doc = fs.readFileSync(BENCHMARKS_DOC, 'utf8');
  const rendered = renderChaosSection(JSON.parse(fs.readFileSync(CHAOS_RESULTS, 'utf8')));
  const start = doc.indexOf(rendered.slice(0, rendered.indexOf('\n')));
  expect(start).toBeGreaterThan(-1);
  const next = doc.indexOf('\n## ', start + 1);
  expect(doc.slice(start, next === -1 ? undefined : next + 1).trimEnd()).toBe(rendered.trimEnd());
});
