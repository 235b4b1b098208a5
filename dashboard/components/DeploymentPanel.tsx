'use client';
import type { Polled } from '../lib/api';
import { formatAgo, formatDateTime } from '../lib/format';
import type { Revision, RevisionsResponse, VersionRef } from '../lib/types';
import { ErrorNotice } from './HealthBadge';
import { OperatorForm, operatorRequest } from './OperatorForm';

const versionText = (ref: VersionRef | null) => (ref ? `v${ref.version}` : 'none');

/** Which version serves in each role of a revision; a canary with its share of traffic. */
export function RolesList({ revision }: { revision: Revision }) {
  const { canary } = revision;
  const roles: [role: string, label: string, value: string][] = [
    ['production', 'Production', versionText(revision.production)],
    ['fallback', 'Fallback', versionText(revision.fallback)],
    [
      'canary',
      'Canary',
      canary ? `v${canary.version} · ${Math.round((canary.share ?? 0) * 100)} % of traffic` : 'none',
    ],
    ['shadow', 'Shadow', versionText(revision.shadow)],
    ['mode', 'Serving mode', revision.mode],
  ];
  return (
    <dl className="kpis" data-testid="deployment-roles">
      {roles.map(([role, label, value]) => (
        <div key={role} data-role={role}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * The current deployment (the newest revision) and the earlier revisions; an operator can restore one
 * (the registry records that as a new revision, audited with the reason and the operator). The model
 * page polls the revisions once for this panel and the versions panel; a model never deployed has none
 * (GET /deployment would answer 404, which the browser logs as an error).
 */
export function DeploymentPanel({
  model,
  revisions,
  onChanged,
}: {
  model: string;
  revisions: Polled<RevisionsResponse>;
  onChanged: () => void;
}) {
  const list = revisions.data?.revisions;
  const deployment = list?.[0];
  return (
    <>
      <ErrorNotice error={revisions.error} what="the deployment" />
      {list && !deployment && <p className="muted">Not deployed yet: register a version and deploy it.</p>}
      {deployment && (
        <>
          <RolesList revision={deployment} />
          <p className="muted small">
            Revision {deployment.revision}
            {deployment.restoredFrom ? ` (restored from revision ${deployment.restoredFrom})` : ''} by{' '}
            {deployment.actor} {formatAgo(deployment.createdAt)}: {deployment.reason}
          </p>
        </>
      )}
      {list && list.length > 1 && (
        <details>
          <summary>Earlier revisions ({list.length - 1})</summary>
          <ol className="revisions">
            {list.slice(1).map((r) => (
              <li key={r.revision} data-revision={r.revision}>
                <b>Revision {r.revision}</b>{' '}
                <span className="muted small">
                  {formatDateTime(r.createdAt)} · {r.actor}
                </span>
                <div className="small">
                  production {versionText(r.production)} · fallback {versionText(r.fallback)}
                  {r.canary ? ` · canary v${r.canary.version}` : ''}
                  {r.shadow ? ` · shadow v${r.shadow.version}` : ''} · {r.mode} — {r.reason}
                </div>
                <details>
                  <summary>Restore revision {r.revision}</summary>
                  <OperatorForm
                    label={`Restore revision ${r.revision}`}
                    secondary
                    placeholder="e.g. the new version misbehaves"
                    submit={async ({ reason }) => {
                      const answer = await operatorRequest<{ deployment: Revision; changed: boolean }>(
                        `/v1/models/${encodeURIComponent(model)}/revisions/${r.revision}/restore`,
                        { reason },
                      );
                      onChanged();
                      return answer.changed
                        ? `Revision ${r.revision} restored as revision ${answer.deployment.revision}.`
                        : `Revision ${r.revision} is already what serves.`;
                    }}
                  />
                </details>
              </li>
            ))}
          </ol>
        </details>
      )}
    </>
  );
}
