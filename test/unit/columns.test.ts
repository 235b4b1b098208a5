import { describe, expect, it } from 'vitest';
import type { FeatureSchema } from '../../lib/domain.ts';
import { MAX_UNSEEN_VALUES, readFeatureColumns } from '../../lib/monitor/columns.ts';

const schema: FeatureSchema = [
  { name: 'city', type: 'categorical', categories: ['paris', 'oslo'], nullable: false },
];

describe('categorical columns: unseen values', () => {
  it('names the first MAX_UNSEEN_VALUES distinct unseen values and counts every unseen row in `other`', () => {
    // An id-like field declared categorical: every row a new value, plus one frequent unseen value.
    const rows = [
      ...Array.from({ length: 3 * MAX_UNSEEN_VALUES }, (_, i) => ({ city: `id-${i}` })),
      ...Array.from({ length: 50 }, () => ({ city: 'lyon' })),
      ...Array.from({ length: 20 }, () => ({ city: 'paris' })),
    ];
    const [column] = readFeatureColumns(schema, rows);
    if (column?.type !== 'categorical') throw new Error('expected a categorical column');
    expect(column.unseenValues.size).toBe(MAX_UNSEEN_VALUES);
    expect(column.other).toBe(3 * MAX_UNSEEN_VALUES + 50);
    expect(column.counts).toEqual([20, 0]);
    // 'lyon' came after the map was full: its rows are in `other`, not named.
    expect(column.unseenValues.has('lyon')).toBe(false);
  });

  it('keeps counting a value it already names', () => {
    const rows = [
      { city: 'lyon' },
      ...Array.from({ length: 2 * MAX_UNSEEN_VALUES }, (_, i) => ({ city: i % 2 ? 'lyon' : `id-${i}` })),
    ];
    const [column] = readFeatureColumns(schema, rows);
    if (column?.type !== 'categorical') throw new Error('expected a categorical column');
    expect(column.unseenValues.get('lyon')).toBe(MAX_UNSEEN_VALUES + 1);
    expect(column.other).toBe(2 * MAX_UNSEEN_VALUES + 1);
  });
});
