// Writes prisma/<provider>/schema.prisma from the single model source prisma/models.prisma.
// Run by `npm run db:schemas` (and by bootstrap); a test checks the written files are current.
import fs from 'node:fs';
import path from 'node:path';
import { type DatabaseProvider, prismaDirFor, REPO_ROOT } from '../lib/db/config.ts';

export const PROVIDERS: DatabaseProvider[] = ['sqlite', 'postgresql'];

export function renderSchema(provider: DatabaseProvider): string {
  const models = fs.readFileSync(path.join(REPO_ROOT, 'prisma', 'models.prisma'), 'utf8');
  return `// GENERATED from prisma/models.prisma by scripts/db-schemas.ts — do not edit.
generator client {
  provider   = "prisma-client"
  output     = "../../generated/prisma-${provider}"
  engineType = "client"
}

datasource db {
  provider = "${provider}"
  // Unused at run time: clients and the CLI connect through driver adapters (lib/db, prisma.config.ts).
  url      = env("DATABASE_URL")
}

${models}`;
}

export const schemaFile = (provider: DatabaseProvider) => path.join(prismaDirFor(provider), 'schema.prisma');

if (import.meta.url === `file://${process.argv[1]}`) {
  // --check: exit 1 if a written schema differs from what models.prisma gives (bootstrap, CI).
  const check = process.argv.includes('--check');
  let stale = false;
  for (const provider of PROVIDERS) {
    const file = schemaFile(provider);
    const wanted = renderSchema(provider);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (current === wanted) continue;
    if (check) {
      console.error(`${path.relative(REPO_ROOT, file)} is out of date: run npm run db:schemas`);
      stale = true;
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, wanted);
    console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
  }
  process.exit(stale ? 1 : 0);
}
