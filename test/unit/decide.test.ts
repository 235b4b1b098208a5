import { describe, expect, it } from 'vitest';
import { decide } from '../../workflows/decide.ts';
import type { Finding, OpenIncident } from '../../workflows/types.ts';

const finding = (state: Finding['state'], severity: Finding['severity'] = 'warning'): Finding => ({
  kind: 'concept_drift',
  severity,
  state,
  summary: 'accuracy fell',
  evidence: {},
});
const incident: OpenIncident = { id: 'inc-1', kind: 'concept_drift', openedAtCycle: 3 };

describe('decide', () => {
  it.each([
    { name: 'healthy', findings: [], open: null, rule: 'healthy', action: 'none', incident: null },
    {
      name: 'suspect only',
      findings: [finding('suspect')],
      open: null,
      rule: 'not-yet-persistent-keep-watching',
      action: 'none',
      incident: null,
    },
    {
      name: 'confirmed, no incident',
      findings: [finding('confirmed')],
      open: null,
      rule: 'confirmed-finding-opens-incident',
      action: 'alert',
      incident: { open: { kind: 'concept_drift', severity: 'warning', summary: 'accuracy fell' } },
    },
    {
      name: 'confirmed, incident open',
      findings: [finding('confirmed')],
      open: incident,
      rule: 'one-incident-at-a-time',
      action: 'none',
      incident: null,
    },
    {
      name: 'recovering',
      findings: [finding('recovering')],
      open: incident,
      rule: 'incident-recovering-keep-watching',
      action: 'none',
      incident: null,
    },
    {
      name: 'cleared',
      findings: [],
      open: incident,
      rule: 'findings-cleared-close-incident',
      action: 'none',
      incident: { close: 'recovered' },
    },
  ])('$name → $rule', ({ findings, open, rule, action, incident: change }) => {
    const d = decide({ findings, openIncident: open });
    expect(d.rule).toBe(rule);
    expect(d.action).toBe(action);
    expect(d.incident).toEqual(change);
    expect(d.reason.length).toBeGreaterThan(0);
  });

  it('opens the incident for the most severe confirmed finding', () => {
    const d = decide({
      findings: [
        finding('confirmed', 'warning'),
        { ...finding('confirmed', 'critical'), kind: 'stale_data' },
      ],
      openIncident: null,
    });
    expect(d.incident).toMatchObject({ open: { kind: 'stale_data', severity: 'critical' } });
  });
});
