// Writes one "## Heading" section of docs/benchmarks.md, replacing the section of that heading if it is
// there (up to the next "## "), or appending it. Every benchmark renders its section from the results it
// has just written to bench/results/, so a table in the docs and its JSON always come from one run.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/db/config.ts';

export const BENCHMARKS_DOC = path.join(REPO_ROOT, 'docs', 'benchmarks.md');

/** `section` starts with its own "## Heading" line; `before` places a new section ahead of that heading. */
export function writeBenchmarkSection(section: string, options: { before?: string } = {}): void {
  const heading = section.slice(0, section.indexOf('\n') + 1);
  if (!heading.startsWith('## ')) throw new Error(`a benchmark section starts with "## ": ${heading}`);
  const doc = fs.readFileSync(BENCHMARKS_DOC, 'utf8');
  const start = doc.indexOf(heading);
  const body = section.endsWith('\n') ? section : `${section}\n`;
  let updated: string;
  if (start !== -1) {
    const next = doc.indexOf('\n## ', start + 1);
    updated = `${doc.slice(0, start)}${body}${next === -1 ? '' : doc.slice(next)}`;
  } else if (options.before && doc.includes(`\n${options.before}`)) {
    updated = doc.replace(`\n${options.before}`, `\n${body}\n${options.before}`);
  } else {
    updated = `${doc.trimEnd()}\n\n${body}`;
  }
  fs.writeFileSync(BENCHMARKS_DOC, updated);
}
