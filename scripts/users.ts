// `npm run users -- <command>`: manages the people who sign in to the dashboard, directly in the database.
//   create NAME --role viewer|operator|admin [--password-stdin]   prints a new random password once, or
//          takes the first line of standard input as the password (--password-stdin)
//   reset NAME [--role ROLE] [--password-stdin]   a new password (and role), enabled again, signed out
//   disable NAME   signs the person out and refuses their sign-ins
//   list
import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import {
  createUser,
  disableUser,
  MIN_PASSWORD_LENGTH,
  newPassword,
  PERSON_ROLES,
  type PersonRole,
  resetUser,
  UserExistsError,
  userNameSchema,
} from '../lib/auth/users.ts';
import { createStore } from '../lib/db/client.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
});
const usage =
  'usage: users create NAME --role viewer|operator|admin [--password-stdin] | reset NAME [--role ROLE] [--password-stdin] | disable NAME | list';
function fail(message: string): never {
  console.error(`users: ${message}\n${usage}`);
  process.exit(2);
}

function nameArgument(): string {
  const parsed = userNameSchema.safeParse(positionals[1]);
  if (!parsed.success) fail(positionals[1] ? `NAME: ${parsed.error.issues[0]!.message}` : 'NAME is required');
  return parsed.data;
}

function roleOption(required: boolean): PersonRole | undefined {
  if (values.role === undefined && !required) return undefined;
  if (!PERSON_ROLES.includes(values.role as PersonRole))
    fail(`--role must be one of ${PERSON_ROLES.join(', ')}`);
  return values.role as PersonRole;
}

/** The password from standard input, or a new random one; whether it was made here (and must be shown). */
async function password(): Promise<{ password: string; made: boolean }> {
  if (!values['password-stdin']) return { password: newPassword(), made: true };
  const typed = (await text(process.stdin)).split(/\r?\n/)[0] ?? '';
  if (typed.length < MIN_PASSWORD_LENGTH)
    fail(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  return { password: typed, made: false };
}

const show = (made: { password: string; made: boolean }) =>
  made.made ? ` — password shown once, hand it over now:\n${made.password}` : '';

const store = await createStore();
try {
  switch (positionals[0]) {
    case 'create': {
      const name = nameArgument();
      const role = roleOption(true)!;
      const given = await password();
      await createUser(store, name, role, given.password).catch((err) => {
        if (err instanceof UserExistsError) fail(err.message);
        throw err;
      });
      console.log(`created ${role} "${name}"${show(given)}`);
      break;
    }
    case 'reset': {
      const name = nameArgument();
      const existing = await store.user.findUnique({ where: { name } });
      if (!existing) fail(`no person named "${name}"`);
      const role = roleOption(false) ?? (existing.role as PersonRole);
      const given = await password();
      await resetUser(store, name, role, given.password);
      console.log(`reset ${role} "${name}" (signed out everywhere)${show(given)}`);
      break;
    }
    case 'disable': {
      const name = nameArgument();
      if (!(await disableUser(store, name))) fail(`no enabled person named "${name}"`);
      console.log(`disabled "${name}" (signed out everywhere)`);
      break;
    }
    case 'list':
      for (const u of await store.user.findMany({ orderBy: { createdAt: 'asc' } })) {
        const state = u.disabledAt ? `disabled ${u.disabledAt.toISOString()}` : 'enabled';
        console.log(`${u.name}\t${u.role}\t${state}`);
      }
      break;
    default:
      fail(positionals[0] ? `unknown command "${positionals[0]}"` : 'no command');
  }
} finally {
  await store.$disconnect();
}
