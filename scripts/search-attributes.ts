// Registers Homeostat's search attributes (lib/search-attributes.ts) on a running Temporal, the one
// TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE name: those it already has are left alone, so running it again is
// harmless. `npm run temporal:search-attributes`; scripts/bootstrap.sh --search-attributes runs it. A dev
// server started by the demo or the tests registers them at start instead (--search-attribute).
import { registerSearchAttributes } from '../lib/search-attributes-admin.ts';
import { temporalSettings } from '../lib/temporal.ts';

const { address, namespace } = temporalSettings();
const added = await registerSearchAttributes(address, namespace);
console.log(
  added.length
    ? `registered on ${address} (${namespace}): ${added.join(', ')}`
    : `${address} (${namespace}) already has every Homeostat search attribute`,
);
