// `npm run keys -- <command>`: manages API keys directly in the database (for the first key, and for
// when no admin key is at hand).
//   create --name NAME --role ingest|viewer|operator|admin --models a,b|'*'   prints the new key once
//          (--models: the models the key may use, comma-separated, or '*' for every model)
//   revoke --name NAME
//   list
//   ensure-admin   creates the key "admin" when no active admin key exists, and prints it once
import { parseArgs } from 'node:util';
import {
  createApiKey,
  EVERY_MODEL,
  KeyExistsError,
  modelScopeSchema,
  revokeApiKey,
  scopeOf,
} from '../lib/auth/keys.ts';
import { createStore } from '../lib/db/client.ts';
import { ROLES, type Role } from '../lib/domain.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { name: { type: 'string' }, role: { type: 'string' }, models: { type: 'string' } },
});
const usage =
  "usage: keys create --name NAME --role ingest|viewer|operator|admin --models a,b|'*' | revoke --name NAME | list | ensure-admin";
function fail(message: string): never {
  console.error(`keys: ${message}\n${usage}`);
  process.exit(2);
}

const store = await createStore();
try {
  switch (positionals[0]) {
    case 'create': {
      if (!values.name) fail('--name is required');
      if (!ROLES.includes(values.role as Role)) fail(`--role must be one of ${ROLES.join(', ')}`);
      if (!values.models)
        fail("--models is required: the models the key may use (a,b), or '*' for every model");
      const scope = modelScopeSchema.safeParse(
        values.models === EVERY_MODEL ? EVERY_MODEL : values.models.split(',').map((m) => m.trim()),
      );
      if (!scope.success) fail(`--models: ${scope.error.issues.map((i) => i.message).join('; ')}`);
      const models = scope.data;
      const { secret } = await createApiKey(store, values.name, values.role as Role, models).catch((err) => {
        if (err instanceof KeyExistsError) fail(err.message);
        throw err;
      });
      const scoped = models === EVERY_MODEL ? 'every model' : `models ${models.join(', ')}`;
      console.log(
        `created ${values.role} key "${values.name}" for ${scoped} — shown once, store it now:\n${secret}`,
      );
      break;
    }
    case 'revoke':
      if (!values.name) fail('--name is required');
      if (!(await revokeApiKey(store, values.name))) fail(`no active key named "${values.name}"`);
      console.log(`revoked "${values.name}"`);
      break;
    case 'list':
      for (const k of await store.apiKey.findMany({ orderBy: { createdAt: 'asc' } })) {
        console.log(
          `${k.name}\t${k.role}\t${[scopeOf(k.models)].flat().join(',')}\t${k.prefix}…\t${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'}`,
        );
      }
      break;
    case 'ensure-admin': {
      if (await store.apiKey.count({ where: { role: 'admin', revokedAt: null } })) break;
      const { secret } = await createApiKey(store, 'admin', 'admin', EVERY_MODEL);
      console.log(
        `\nCreated the first admin API key — shown once, store it now:\n\n  ${secret}\n\nUse it as "Authorization: Bearer <key>"; create more with npm run keys -- create.\n`,
      );
      break;
    }
    default:
      fail(positionals[0] ? `unknown command "${positionals[0]}"` : 'no command');
  }
} finally {
  await store.$disconnect();
}
