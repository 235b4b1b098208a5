'use client';
import Link from 'next/link';
import { useId, useState } from 'react';
import { usePolling } from '../lib/api';
import { formatDateTime, formatNumber, incidentHref } from '../lib/format';
import type {
  ReferenceProfile,
  Revision,
  VersionResponse,
  VersionSummary,
  VersionsResponse,
} from '../lib/types';
import { ErrorNotice, StatusBadge } from './HealthBadge';

type Detail = VersionResponse['version'];

/** The roles a version has in the current deployment, in words. */
function rolesOf(version: number, deployment: Revision | undefined): string[] {
  if (!deployment) return [];
  return (['production', 'fallback', 'canary', 'shadow'] as const).filter(
    (role) => deployment[role]?.version === version,
  );
}

/** A version's ancestors through parentVersion, itself first: v5 ← v3 ← v1. */
function lineage(version: number, versions: VersionSummary[]): number[] {
  const parent = new Map(versions.map((v) => [v.version, v.parentVersion]));
  const chain = [version];
  for (let p = parent.get(version); p != null && !chain.includes(p); p = parent.get(p)) chain.push(p);
  return chain;
}

/** One line per feature of a reference profile: its distribution in a few numbers. */
function referenceRows(profile: unknown): Map<string, string> {
  const features = (profile as ReferenceProfile | null)?.features ?? [];
  return new Map(
    features.map((f) => {
      const d = f.distribution;
      const text = !d
        ? 'no valid values'
        : d.type === 'numeric'
          ? `mean ${formatNumber(d.mean, 2)} · sd ${formatNumber(d.sd, 2)} · [${formatNumber(d.min, 2)}, ${formatNumber(d.max, 2)}]`
          : `${d.categories.length} categories · top ${d.categories[d.counts.indexOf(Math.max(...d.counts))] ?? '–'}`;
      const nulls = f.rows > 0 ? ` · ${formatNumber((100 * f.nullOrAbsent) / f.rows, 1)} % null` : '';
      return [f.name, `${text}${nulls}`];
    }),
  );
}

/** Rows of the comparison: label, the two values, and whether they differ. */
function comparisonRows(a: Detail, b: Detail, versions: VersionSummary[], deployment: Revision | undefined) {
  const rows: { group: string; label: string; a: string; b: string }[] = [];
  const add = (group: string, label: string, va: string, vb: string) =>
    rows.push({ group, label, a: va, b: vb });
  add('Version', 'Status', a.status, b.status);
  add('Version', 'Kind', a.kind ?? '–', b.kind ?? '–');
  add(
    'Version',
    'Serves as',
    rolesOf(a.version, deployment).join(', ') || '–',
    rolesOf(b.version, deployment).join(', ') || '–',
  );
  add('Version', 'Registered', formatDateTime(a.createdAt), formatDateTime(b.createdAt));
  const windowText = (v: Detail) =>
    v.trainingWindow
      ? `${formatDateTime(v.trainingWindow.from)} → ${formatDateTime(v.trainingWindow.to)}`
      : '–';
  add(
    'Lineage',
    'Ancestry',
    lineage(a.version, versions)
      .map((n) => `v${n}`)
      .join(' ← '),
    lineage(b.version, versions)
      .map((n) => `v${n}`)
      .join(' ← '),
  );
  add(
    'Lineage',
    'Parent',
    a.parentVersion ? `v${a.parentVersion}` : '–',
    b.parentVersion ? `v${b.parentVersion}` : '–',
  );
  add('Lineage', 'Training window', windowText(a), windowText(b));
  // Validation metrics hold numbers and a few words (task, averaging); nested tables (per class) are left out.
  const metricText = (value: unknown) =>
    typeof value === 'string' ? value : typeof value === 'number' ? formatNumber(value) : null;
  const metrics = [...new Set([...Object.keys(a.metrics ?? {}), ...Object.keys(b.metrics ?? {})])].sort();
  for (const m of metrics) {
    const [ma, mb] = [metricText(a.metrics?.[m]), metricText(b.metrics?.[m])];
    if (ma !== null || mb !== null) add('Metrics', m, ma ?? '–', mb ?? '–');
  }
  const refA = referenceRows(a.referenceStats);
  const refB = referenceRows(b.referenceStats);
  const rowsOf = (p: unknown) => (p as ReferenceProfile | null)?.rows;
  add(
    'Reference statistics',
    'Rows',
    String(rowsOf(a.referenceStats) ?? '–'),
    String(rowsOf(b.referenceStats) ?? '–'),
  );
  for (const name of new Set([...refA.keys(), ...refB.keys()])) {
    add('Reference statistics', name, refA.get(name) ?? '–', refB.get(name) ?? '–');
  }
  return rows;
}

function VersionPicker({
  label,
  value,
  versions,
  onChange,
}: {
  label: string;
  value: number | null;
  versions: VersionSummary[];
  onChange: (v: number) => void;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version} ({v.status})
          </option>
        ))}
      </select>
    </div>
  );
}

/** The model's versions, newest first, and two of them side by side. */
export function VersionsPanel({ model, deployment }: { model: string; deployment: Revision | undefined }) {
  const base = `/v1/models/${encodeURIComponent(model)}/versions`;
  const list = usePolling<VersionsResponse>(base, 5000);
  const versions = list.data?.versions ?? [];
  const [picked, setPicked] = useState<[number | null, number | null]>([null, null]);
  // Until the operator picks, compare production with the newest other version.
  const production = deployment?.production?.version ?? null;
  const defaultA = production ?? versions[1]?.version ?? null;
  const a = picked[0] ?? defaultA;
  const b = picked[1] ?? versions.find((v) => v.version !== a)?.version ?? null;
  const detailA = usePolling<VersionResponse>(a === null ? null : `${base}/${a}`, 15_000);
  const detailB = usePolling<VersionResponse>(b === null ? null : `${base}/${b}`, 15_000);

  if (list.error) return <ErrorNotice error={list.error} what="the versions" />;
  if (!list.data) return <p className="muted">Loading…</p>;
  if (versions.length === 0) return <p className="muted">No version is registered yet.</p>;
  const rows =
    detailA.data && detailB.data && detailA.data.version.version === a && detailB.data.version.version === b
      ? comparisonRows(detailA.data.version, detailB.data.version, versions, deployment)
      : null;

  return (
    <div className="stack">
      <div className="table-wrap">
        <table className="cards" data-testid="versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Serves as</th>
              <th scope="col">Parent</th>
              <th scope="col">Accuracy</th>
              <th scope="col">Registered</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} data-version={v.version}>
                <th scope="row">v{v.version}</th>
                <td data-label="Status">
                  <StatusBadge status={v.status} />
                </td>
                <td data-label="Serves as">{rolesOf(v.version, deployment).join(', ') || '–'}</td>
                <td data-label="Parent">
                  {v.parentVersion ? `v${v.parentVersion}` : '–'}
                  {v.incidentId && (
                    <div className="small">
                      <Link href={incidentHref(v.incidentId)}>incident</Link>
                    </div>
                  )}
                </td>
                <td data-label="Accuracy">{formatNumber(v.metrics?.accuracy)}</td>
                <td data-label="Registered">{formatDateTime(v.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {versions.length > 1 && (
        <section aria-label="Compare two versions">
          <h3>Compare</h3>
          <div className="inline actions-row">
            <VersionPicker
              label="Left"
              value={a}
              versions={versions}
              onChange={(v) => setPicked(([, y]) => [v, y ?? b])}
            />
            <VersionPicker
              label="Right"
              value={b}
              versions={versions}
              onChange={(v) => setPicked(([x]) => [x ?? a, v])}
            />
          </div>
          <ErrorNotice error={detailA.error ?? detailB.error} what="a version" />
          {rows ? (
            <div className="table-wrap">
              <table className="compare" data-testid="version-compare">
                <thead>
                  <tr>
                    <th scope="col">
                      <span className="visually-hidden">Property</span>
                    </th>
                    <th scope="col">v{a}</th>
                    <th scope="col">v{b}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr key={`${r.group}-${r.label}`} data-differs={r.a !== r.b}>
                      <th scope="row">
                        {(i === 0 || rows[i - 1]!.group !== r.group) && (
                          <div className="muted small compare-group">{r.group}</div>
                        )}
                        {r.label}
                      </th>
                      <td>{r.a}</td>
                      <td>{r.b}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="muted">Loading the two versions…</p>
          )}
        </section>
      )}
    </div>
  );
}
