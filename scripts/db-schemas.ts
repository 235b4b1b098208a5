// Writes prisma/<provider>/schema.prisma from the single model source prisma/models.prisma.
// Run by `npm run db:schemas` (and by bootstrap); a test checks the written files are current.
import fs from 'node:fs';
import path from 'node:path';
import { type DatabaseProvider, REPO_ROOT, prismaDirFor } from '../lib/db/config.ts';

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

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const provider of PROVIDERS) {
    const file = path.join(prismaDirFor(provider), 'schema.prisma');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderSchema(provider));
    console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
  }
}
