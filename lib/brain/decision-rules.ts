// Every rule decide can fire, with what it does: each decision names the one that fired, and
// docs/agent-logic.md and the dashboard show the list. Pure data, zod-free (the workflow bundle loads it).

/** Every rule decide can fire, with what it does; docs/agent-logic.md and the dashboard show them. */
export const DECISION_RULES = [
  {
    name: 'remedy-in-progress',
    description: 'A remedy, approval wait or verification is running: do nothing.',
  },
  {
    name: 'escalated-awaiting-human',
    description: 'The incident is with a human: hold the model as it is (a collapse is still protected).',
  },
  {
    name: 'critical-collapse-protect',
    description:
      'Accuracy below floors.accuracy or failure rate at floors.failureRate: fall back (or disable) at once.',
  },
  {
    name: 'verification-failed-next-rung',
    description: 'The last remedy did not recover the model: take the next applicable untried rung.',
  },
  {
    name: 'protected-then-repair',
    description: 'Users are protected (fallback/disable): take the next rung that repairs the model itself.',
  },
  {
    name: 'protected-awaiting-cooldown',
    description: 'Users are protected and the repair rung left is cooling down: wait for it, keep protected.',
  },
  {
    name: 'ladder-exhausted-escalate',
    description: 'No rung of the ladder is left to try: escalate and hold the model in its safe state.',
  },
  {
    name: 'retrain-again-on-more-rows',
    description:
      'A promoted retrain improved but fell short: retrain once more, on every row since the onset.',
  },
  {
    name: 'no-better-model-escalate',
    description:
      'After a retrain, production is the best model for the recent data: escalate, no worse fallback.',
  },
  {
    name: 'level-changed-rebaseline',
    description:
      'No refit could do materially better: the level changed, not the model; alert, close, re-baseline.',
  },
  {
    name: 'unanswered-escalation-rebaseline',
    description:
      'Nobody answered a model-quality escalation within acceptAfter and the policy accepts: close, re-baseline.',
  },
  {
    name: 'budget-exhausted-escalate',
    description: 'The only remedies left have spent their budget: escalate instead of acting again.',
  },
  {
    name: 'findings-cleared-close-incident',
    description: "The open incident's finding has cleared: close it as recovered.",
  },
  {
    name: 'incident-recovering-keep-watching',
    description: "The open incident's finding is easing: wait for consecutive healthy windows.",
  },
  {
    name: 'open-incident-now-actionable',
    description: 'An alert-only incident now has strong evidence and an applicable remedy: act on it.',
  },
  {
    name: 'open-incident-persistent-actionable',
    description:
      'An alert-only incident still confirmed a confirmation span after its alert: persistence is evidence.',
  },
  {
    name: 'one-incident-at-a-time',
    description: 'An incident is already open: no second one, the operator was alerted already.',
  },
  {
    name: 'data-quality-protect-never-retrain',
    description: 'Broken inputs upstream: fall back if possible, else alert; never retrain on them.',
  },
  {
    name: 'deployment-change-rollback',
    description: 'Degradation right after a deployment change: roll back to the last known-good revision.',
  },
  {
    name: 'performance-degraded-retrain',
    description: 'Concept drift, or input drift that hurts performance: retrain on data since the onset.',
  },
  {
    name: 'system-regression-fallback',
    description: 'Latency or failure regression with no recent deployment change: fall back and alert.',
  },
  {
    name: 'custom-rule-ladder',
    description: "A user's own finding rule is confirmed: take the first applicable rung of ladders.custom.",
  },
  {
    name: 'segment-ladder',
    description:
      'One segment performs worse while the others hold: take the first applicable rung of ladders.segment.',
  },
  {
    name: 'no-applicable-rung-alert',
    description: 'The finding calls for a remedy but none applies now (cooldown, no fallback...): alert.',
  },
  {
    name: 'input-drift-no-impact-alert',
    description: 'Input drift without a measured performance impact: alert and keep watching.',
  },
  {
    name: 'anomaly-confirmed-alert',
    description: 'A confirmed traffic anomaly: alert; it is not a model fault.',
  },
  {
    name: 'traffic-stopped-escalate',
    description: 'No predictions arrive: nothing the agent can change, so escalate to a human.',
  },
  { name: 'labels-delayed-alert', description: 'Labels stopped or come late: alert; performance is blind.' },
  {
    name: 'weak-evidence-keep-watching',
    description: 'Evidence strength below confidence.alertAbove: do nothing yet.',
  },
  {
    name: 'moderate-evidence-alert',
    description: 'Evidence strength between alertAbove and actAbove: alert only, do not act yet.',
  },
  {
    name: 'not-yet-persistent-keep-watching',
    description: 'Only suspect or transient findings (not persistent yet): treat as noise and keep watching.',
  },
  {
    name: 'recovering-keep-watching',
    description: 'No incident and only easing findings: nothing to do while they clear.',
  },
  { name: 'healthy', description: 'No finding: nothing to do.' },
] as const satisfies readonly { name: string; description: string }[];

export type DecisionRule = (typeof DECISION_RULES)[number]['name'];
