// Decide: maps findings and the agent's situation to one action. Pure and deterministic; every
// decision names the rule that fired and the alternatives it rejected.
import type { Decision, Finding, OpenIncident } from './types.ts';

export interface DecisionContext {
  findings: Finding[];
  openIncident: OpenIncident | null;
}

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

function mostSevere(findings: Finding[]): Finding | undefined {
  return [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity])[0];
}

export function decide({ findings, openIncident }: DecisionContext): Decision {
  const confirmed = findings.filter((f) => f.state === 'confirmed');
  const top = mostSevere(confirmed);

  if (top && !openIncident) {
    return {
      action: 'alert',
      rule: 'confirmed-finding-opens-incident',
      reason: `${top.kind} confirmed: ${top.summary}`,
      alternatives: [{ action: 'none', rejectedBecause: 'the finding persisted over consecutive windows' }],
      incident: { open: { kind: top.kind, severity: top.severity, summary: top.summary } },
    };
  }
  if (top && openIncident) {
    return {
      action: 'none',
      rule: 'one-incident-at-a-time',
      reason: `incident ${openIncident.id} (${openIncident.kind}) is already open`,
      alternatives: [
        { action: 'alert', rejectedBecause: 'the operator was already alerted for this incident' },
      ],
      incident: null,
    };
  }
  if (openIncident && findings.some((f) => f.state === 'recovering')) {
    return {
      action: 'none',
      rule: 'incident-recovering-keep-watching',
      reason: `incident ${openIncident.id} is recovering; waiting for consecutive healthy windows`,
      alternatives: [
        { action: 'none', rejectedBecause: 'closing now could flap if the next window is bad again' },
      ],
      incident: null,
    };
  }
  if (openIncident) {
    return {
      action: 'none',
      rule: 'findings-cleared-close-incident',
      reason: `no active finding remains; incident ${openIncident.id} recovered`,
      alternatives: [],
      incident: { close: 'recovered' },
    };
  }
  const suspect = findings.find((f) => f.state === 'suspect');
  if (suspect) {
    return {
      action: 'none',
      rule: 'not-yet-persistent-keep-watching',
      reason: `${suspect.kind} is ${suspect.state}: ${suspect.summary}`,
      alternatives: [{ action: 'alert', rejectedBecause: 'not confirmed over consecutive windows yet' }],
      incident: null,
    };
  }
  return { action: 'none', rule: 'healthy', reason: 'no finding', alternatives: [], incident: null };
}
