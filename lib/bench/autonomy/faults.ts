// Upstream faults on the demo models' tabular rows (lib/sim/demo-models.ts): what a broken export or
// pipeline does to a feature. Each keeps the row's clean twin (CaseRow.clean) so the benchmark can check
// independently whether the fault really hurts the model.
import type { Random } from '../../sim/random.ts';
import type { CaseRow } from './case.ts';

export const FAULTS = [
  'unit-change',
  'nulls',
  'renamed-categories',
  'constant-column',
  'swapped-columns',
  'type-change',
] as const;
export type FaultKind = (typeof FAULTS)[number];

type ModelName = 'credit-default' | 'demand';

/** The columns each fault breaks, per demo model. */
const TARGETS: Record<FaultKind, Record<ModelName, string[]>> = {
  'unit-change': { 'credit-default': ['income'], demand: ['price'] },
  nulls: { 'credit-default': ['debt_to_income'], demand: ['temperature'] },
  'renamed-categories': { 'credit-default': ['channel'], demand: ['product_category'] },
  'constant-column': { 'credit-default': ['credit_utilization'], demand: ['store_size'] },
  'swapped-columns': {
    'credit-default': ['debt_to_income', 'credit_utilization'],
    demand: ['temperature', 'precipitation_mm'],
  },
  'type-change': { 'credit-default': ['late_payments_12m'], demand: ['days_since_launch'] },
};

const RENAMES: Record<string, Record<string, string>> = {
  channel: { web: 'online', mobile: 'app', broker: 'partner' },
  product_category: { grocery: 'food', beverages: 'drinks', snacks: 'food_snacks' },
};

/** Breaks `rows` in place (keeping each clean twin) and says what it did. */
export function applyFault(fault: FaultKind, model: string, rows: CaseRow[], rng: Random): string {
  const [a, b] = TARGETS[fault][model as ModelName];
  const factor = fault === 'unit-change' ? (model === 'demand' ? 100 : 1000) : 1;
  const nullRate = rng.uniform(0.5, 1);
  for (const row of rows) {
    row.clean = { ...row.features };
    const f = row.features;
    switch (fault) {
      case 'unit-change':
        f[a!] = (f[a!] as number) * factor;
        break;
      case 'nulls':
        if (rng.bernoulli(nullRate)) f[a!] = null;
        break;
      case 'renamed-categories':
        f[a!] = RENAMES[a!]![f[a!] as string] ?? f[a!]!;
        break;
      case 'constant-column':
        f[a!] = model === 'demand' ? 1200 : 0;
        break;
      case 'swapped-columns':
        [f[a!], f[b!]] = [f[b!]!, f[a!]!];
        break;
      case 'type-change':
        // A text export: the number arrives quoted and with its unit.
        f[a!] = f[a!] === null ? null : `${f[a!]} ${model === 'demand' ? 'days' : 'payments'}`;
        break;
    }
  }
  return {
    'unit-change': `${a} ×${factor} (a unit change)`,
    nulls: `${Math.round(nullRate * 100)} % of ${a} null`,
    'renamed-categories': `${a}'s categories renamed`,
    'constant-column': `${a} stuck at one value`,
    'swapped-columns': `${a} and ${b} swapped`,
    'type-change': `${a} arrives as text with its unit`,
  }[fault];
}
