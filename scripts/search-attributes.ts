// Registers Homeostat's search attributes (lib/search-attributes.ts) on a running Temporal, the one
// TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE name: those it already has are left alone, so running it again is
// harmless. `npm run temporal:search-attributes`; scripts/bootstrap.sh --search-attributes runs it. A dev
// server started by the demo or the tests registers them at start instead (--search-attribute).
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributeDefinitions } from '../lib/search-attributes.ts';
import { temporalSettings } from '../lib/temporal.ts';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/** Registers the missing attributes; answers the names it added. */
export async function registerSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = searchAttributeDefinitions().filter(({ name }) => !(name in (customAttributes ?? {})));
    if (missing.length === 0) return [];
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map(({ name, type }) => [name, IndexedValueType[`INDEXED_VALUE_TYPE_${type}`]]),
      ),
    });
    return missing.map(({ name }) => name);
  } finally {
    await connection.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { address, namespace } = temporalSettings();
  const added = await registerSearchAttributes(address, namespace);
  console.log(
    added.length
      ? `registered on ${address} (${namespace}): ${added.join(', ')}`
      : `${address} (${namespace}) already has every Homeostat search attribute`,
  );
}
