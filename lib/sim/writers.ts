// File formats of a simulated stream, also the input format of backtests: keep them plain and change them
// only together with their reader. Both hold one prediction per line, in stream order.
//
// JSONL — one SimEvent (stream.ts) per line, exactly as generated:
//   {"seq":0,"ts":"2025-01-01T00:00:00.121Z","predictionId":"…","features":{…},"label":1,
//    "labelTs":"2025-01-01T00:01:02.512Z","latencyMs":31.27,"failed":false}
//
// CSV — RFC 4180, comma-separated, "\n" line ends, a header line first:
//   seq,ts,prediction_id,<features in schema order>,label,label_ts,latency_ms,failed
// - an empty field is null; an empty label and label_ts mean the label never arrives;
// - booleans are true/false, times ISO 8601 UTC, numbers as JavaScript prints them;
// - a field holding a comma, a double quote or a line break is quoted, with quotes doubled; an empty
//   string is written "" so that it stays distinct from null.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FeatureSchema, FeatureValue } from '../domain.ts';
import type { SimEvent } from './stream.ts';

export const STREAM_FORMATS = ['jsonl', 'csv'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

const LEADING_COLUMNS = ['seq', 'ts', 'prediction_id'];
const TRAILING_COLUMNS = ['label', 'label_ts', 'latency_ms', 'failed'];

/** The format a file name asks for by its extension, if it is one of STREAM_FORMATS. */
export function formatFromPath(file: string): StreamFormat | undefined {
  const extension = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  return STREAM_FORMATS.find((f) => f === extension);
}

function csvField(value: FeatureValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return text === '' || /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function* csvLines(events: Iterable<SimEvent>, schema: FeatureSchema): Generator<string> {
  const features = schema.map((spec) => spec.name);
  const clash = features.find((name) => LEADING_COLUMNS.includes(name) || TRAILING_COLUMNS.includes(name));
  if (clash) throw new Error(`feature "${clash}" has the name of a fixed CSV column`);
  yield `${[...LEADING_COLUMNS, ...features, ...TRAILING_COLUMNS].map(csvField).join(',')}\n`;
  for (const e of events) {
    const fields = [
      e.seq,
      e.ts,
      e.predictionId,
      ...features.map((name) => e.features[name]),
      e.label,
      e.labelTs,
      e.latencyMs,
      e.failed,
    ];
    yield `${fields.map(csvField).join(',')}\n`;
  }
}

function* jsonlLines(events: Iterable<SimEvent>): Generator<string> {
  for (const e of events) yield `${JSON.stringify(e)}\n`;
}

/** The file's lines, each ending in "\n"; the schema fixes the CSV columns. */
export function formatStream(
  events: Iterable<SimEvent>,
  format: StreamFormat,
  schema: FeatureSchema,
): Iterable<string> {
  return format === 'csv' ? csvLines(events, schema) : jsonlLines(events);
}

const CHUNK_CHARS = 1 << 16;

// Readable.from makes one stream chunk of every item it is given; joining lines first saves a write per line.
function* chunks(lines: Iterable<string>): Generator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export async function writeStreamFile(
  file: string,
  events: Iterable<SimEvent>,
  format: StreamFormat,
  schema: FeatureSchema,
): Promise<void> {
  await pipeline(Readable.from(chunks(formatStream(events, format, schema))), fs.createWriteStream(file));
}
