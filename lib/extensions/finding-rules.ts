// The user's own finding rules (docs/extending.md): loaded from the modules HOMEOSTAT_FINDING_RULES names
// by the worker, the backtest and the demo alike, and run where a window is measured
// (lib/monitor/measure.ts), so both runtimes judge with the same rules. Each rule's verdict is recorded in
// the window summary; the workflow only reads it (lib/brain/findings/custom.ts says why).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CustomFindingRule, CustomObserveInput, CustomVerdict } from '../brain/findings/custom.ts';
import { SEVERITIES } from '../domain.ts';

/** Comma-separated module paths (relative to the working directory), each exporting rules. */
export const FINDING_RULES_ENV = 'HOMEOSTAT_FINDING_RULES';

const RULE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** A module or rule that cannot be used: the process refuses to start rather than judge without it. */
export class FindingRuleConfigError extends Error {
  override name = 'FindingRuleConfigError';
}

/**
 * Checks what a module exports (`default` or `rules`: one rule or a list) and answers its rules; every
 * problem is named with the module and the rule.
 */
export function validateFindingRules(exported: unknown, source: string): CustomFindingRule[] {
  const module = exported as { default?: unknown; rules?: unknown };
  const given = module.rules ?? module.default;
  if (given === undefined)
    throw new FindingRuleConfigError(`${source}: exports no finding rule (export \`rules\` or a default)`);
  const list = Array.isArray(given) ? given : [given];
  return list.map((rule: Partial<CustomFindingRule> | null, i) => {
    const where = `${source}: rule ${i + 1}`;
    if (typeof rule !== 'object' || rule === null)
      throw new FindingRuleConfigError(`${where}: not an object`);
    if (typeof rule.name !== 'string' || !RULE_NAME.test(rule.name))
      throw new FindingRuleConfigError(
        `${where}: name ${JSON.stringify(rule.name)} must be lower case letters, digits and dashes`,
      );
    if (typeof rule.observe !== 'function')
      throw new FindingRuleConfigError(`${where} (${rule.name}): observe must be a function`);
    return rule as CustomFindingRule;
  });
}

/** Loads the rules of `modules` (paths), checking that their names are unique. */
export async function loadFindingRules(modules: readonly string[]): Promise<CustomFindingRule[]> {
  const rules: CustomFindingRule[] = [];
  for (const file of modules) {
    const resolved = path.resolve(file);
    let exported: unknown;
    try {
      exported = await import(pathToFileURL(resolved).href);
    } catch (error) {
      throw new FindingRuleConfigError(`${file}: cannot be loaded: ${(error as Error).message}`);
    }
    for (const rule of validateFindingRules(exported, file)) {
      const clash = rules.find((r) => r.name === rule.name);
      if (clash) throw new FindingRuleConfigError(`${file}: a rule named "${rule.name}" is already loaded`);
      rules.push(rule);
    }
  }
  return rules;
}

/** The rules HOMEOSTAT_FINDING_RULES names (none when it is unset). */
export function findingRulesFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<CustomFindingRule[]> {
  const modules = (env[FINDING_RULES_ENV] ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '');
  return loadFindingRules(modules);
}

/**
 * Every rule's verdict on one window. A rule that throws, or answers something that is not an
 * observation, is isolated: its verdict is "not judged" with the error, and the other rules still judge.
 */
export function judgeByFindingRules(
  rules: readonly CustomFindingRule[],
  input: CustomObserveInput,
): CustomVerdict[] {
  return rules.map((rule) => {
    try {
      const seen = rule.observe(input);
      const problem = observationProblem(seen);
      return problem ? failed(rule.name, problem) : { ...seen, rule: rule.name };
    } catch (error) {
      return failed(rule.name, `threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

function failed(rule: string, error: string): CustomVerdict {
  return { rule, judged: false, bad: false, severity: 'info', summary: `the rule failed: ${error}`, error };
}

/** Why `seen` is not an observation (custom.ts CustomObservation), or null. */
function observationProblem(seen: unknown): string | null {
  const o = seen as Partial<CustomVerdict> | null;
  if (typeof o !== 'object' || o === null) return 'answered no observation';
  if (typeof o.judged !== 'boolean' || typeof o.bad !== 'boolean') return 'judged and bad must be booleans';
  if (!SEVERITIES.includes(o.severity as never)) return `severity must be one of ${SEVERITIES.join(', ')}`;
  if (typeof o.summary !== 'string') return 'summary must be a string';
  if (o.margin !== undefined && !(typeof o.margin === 'number' && Number.isFinite(o.margin)))
    return 'margin must be a finite number';
  return null;
}

export type { CustomFindingRule, CustomObservation, CustomObserveInput } from '../brain/findings/custom.ts';
