// Deployment histories for backtests (lib/backtest/deployments.ts): the one a release pipeline leaves on
// the demo's credit model.
import type { DeploymentHistoryFile } from '../../lib/backtest/deployments.ts';
import { type ModelArtifact, trainModel } from '../../lib/models/index.ts';
import { creditDefault } from '../../lib/sim/demo-models.ts';
import { referenceData } from '../../lib/sim/setup.ts';

/** The credit model's production (a scorecard on 4,000 rows) and its weaker fallback (a forest on 400). */
export async function creditVersions(): Promise<{ production: ModelArtifact; fallback: ModelArtifact }> {
  const [production, fallback] = await Promise.all([
    trainModel('logistic-regression', 'binary', creditDefault.schema, referenceData(creditDefault, 4000, 7)),
    trainModel(
      'random-forest-classifier',
      'binary',
      creditDefault.schema,
      referenceData(creditDefault, 400, 8),
    ),
  ]);
  return { production, fallback };
}

/**
 * A person deploys version 1 with version 2 as its fallback at `start`; at `release` a release pipeline
 * deploys version 3 (`reason`) in its place.
 */
export function releaseHistory(options: {
  start: string;
  release: string;
  reason: string;
  versions: [production: ModelArtifact, fallback: ModelArtifact, release: ModelArtifact];
}): DeploymentHistoryFile {
  const first = {
    revision: 1,
    at: options.start,
    actor: 'api',
    reason: 'first deployment: production and its fallback',
    mode: 'serving' as const,
    production: 1,
    fallback: 2,
    canary: null,
    shadow: null,
    restoredFrom: null,
  };
  return {
    format: 1,
    model: creditDefault.name,
    task: 'binary',
    classes: ['0', '1'],
    schema: creditDefault.schema,
    changes: [
      first,
      {
        ...first,
        revision: 2,
        at: options.release,
        actor: 'release-pipeline',
        reason: options.reason,
        production: 3,
      },
    ],
    versions: options.versions.map((artifact, i) => ({ version: i + 1, artifact })),
  };
}
