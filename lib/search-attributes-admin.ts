// Registering Homeostat's search attributes (lib/search-attributes.ts) on a Temporal namespace, and checking
// that they are there. Node-only (the operator service): the workflow bundle never loads this module.
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { searchAttributeDefinitions } from './search-attributes.ts';

const { IndexedValueType } = proto.temporal.api.enums.v1;

const allNames = () => searchAttributeDefinitions().map(({ name }) => name);

/**
 * Adds `names` (all of Homeostat's by default) to the namespace. The time-skipping test server implements
 * this call but not ListSearchAttributes, so the tests register through it directly.
 */
export async function addSearchAttributes(
  connection: Connection,
  namespace: string,
  names = allNames(),
): Promise<void> {
  const definitions = searchAttributeDefinitions().filter(({ name }) => names.includes(name));
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      definitions.map(({ name, type }) => [name, IndexedValueType[`INDEXED_VALUE_TYPE_${type}`]]),
    ),
  });
}

/** The attributes the namespace does not have yet. */
export async function missingSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  return allNames().filter((name) => !(name in (customAttributes ?? {})));
}

/** Registers the missing attributes on the Temporal at `address`; answers the names it added. */
export async function registerSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const missing = await missingSearchAttributes(connection, namespace);
    if (missing.length > 0) await addSearchAttributes(connection, namespace, missing);
    return missing;
  } finally {
    await connection.close();
  }
}

export type SearchAttributesAtStart =
  | { status: 'present' }
  | { status: 'registered'; names: string[] }
  | { status: 'missing'; names: string[] }
  | { status: 'unchecked'; why: string };

/**
 * What a worker finds before it runs agents: a namespace without the attributes would fail every agent's
 * workflow task, so the worker says so at once instead. `register` (HOMEOSTAT_REGISTER_SEARCH_ATTRIBUTES=1,
 * for a stack that administers its own Temporal, as docker-compose.yml does) adds the missing ones. A
 * server that does not let the worker list them (a cluster's least-privileged worker identity) is trusted.
 */
export async function searchAttributesAtStart(
  address: string,
  namespace: string,
  register: boolean,
): Promise<SearchAttributesAtStart> {
  const connection = await Connection.connect({ address });
  try {
    const missing = await missingSearchAttributes(connection, namespace).catch((error: unknown) => error);
    if (!Array.isArray(missing)) return { status: 'unchecked', why: String(missing) };
    if (missing.length === 0) return { status: 'present' };
    if (!register) return { status: 'missing', names: missing };
    await addSearchAttributes(connection, namespace, missing);
    return { status: 'registered', names: missing };
  } finally {
    await connection.close();
  }
}
