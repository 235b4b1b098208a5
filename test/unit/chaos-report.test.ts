// The "## Chaos" section of docs/benchmarks.md is the committed bench/results/chaos.json rendered by
// bench/chaos-report.ts: nobody typed its numbers, and a new run cannot leave one of the two behind. The
// section says which remedy steps took fewer faults than the goal.
import fs from 'node:fs';
import { expect, it } from 'vitest';
import {
  CHAOS_RESULTS,
  FAULTS_PER_STEP_GOAL,
  REMEDY_STEPS,
  renderChaosSection,
} from '../../bench/chaos-report.ts';
import { BENCHMARKS_DOC } from '../../bench/doc-section.ts';

it('docs/benchmarks.md holds the chaos section rendered from bench/results/chaos.json', () => {
  const doc = fs.readFileSync(BENCHMARKS_DOC, 'utf8');
  const rendered = renderChaosSection(JSON.parse(fs.readFileSync(CHAOS_RESULTS, 'utf8')));
  const start = doc.indexOf(rendered.slice(0, rendered.indexOf('\n')));
  expect(start).toBeGreaterThan(-1);
  const next = doc.indexOf('\n## ', start + 1);
  expect(doc.slice(start, next === -1 ? undefined : next + 1).trimEnd()).toBe(rendered.trimEnd());
});

it('the section names the remedy steps that took fewer faults than the goal, or says none did', () => {
  const committed = JSON.parse(fs.readFileSync(CHAOS_RESULTS, 'utf8'));
  const withSteps = (byPoint: Record<string, number>) =>
    renderChaosSection({ ...committed, faults: { ...committed.faults, byPoint } });
  const all = Object.fromEntries(REMEDY_STEPS.map((step) => [step, FAULTS_PER_STEP_GOAL]));
  expect(withSteps(all)).toContain(`every remedy step took at least ${FAULTS_PER_STEP_GOAL} faults`);
  const short = withSteps({ ...all, rollback: FAULTS_PER_STEP_GOAL - 1, verify: 0, monitoring: 40 });
  expect(short).toContain(`fewer than ${FAULTS_PER_STEP_GOAL} faults landed during: rollback, verify`);
  expect(short).toContain('| rollback | 2 |');
  expect(short).toContain('| monitoring | 40 |');
});
