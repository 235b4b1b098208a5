// `npm run audit -- <command>`: the tamper-evident audit chain (lib/audit/chain.ts), straight from the
// database.
//   verify [--model NAME]   recomputes the chains; prints each problem and every chain's head (keep
//                           the heads elsewhere: a rewritten chain then no longer matches them);
//                           exits 1 when a row or entry was changed, inserted or deleted
//   seal-existing           seals audit rows written before the chain existed (once, after upgrading)
import { parseArgs } from 'node:util';
import { sealUnsealedRows, verifyAuditChain } from '../lib/audit/chain.ts';
import { createStore } from '../lib/db/client.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { model: { type: 'string' } } });
const usage = 'usage: audit verify [--model NAME] | seal-existing';

const store = await createStore();
try {
  switch (positionals[0]) {
    case 'verify': {
      const report = await verifyAuditChain(store, values.model);
      for (const model of report.models) {
        const head = model.head ? `head ${model.head.seq} ${model.head.hash}` : 'no head';
        console.log(`${model.modelName}: ${model.entries} entries, ${head}`);
        for (const p of model.problems) console.log(`  ${p.kind}: ${p.where}: ${p.detail}`);
      }
      console.log(report.ok ? 'audit chain verified' : 'audit chain NOT verified');
      process.exitCode = report.ok ? 0 : 1;
      break;
    }
    case 'seal-existing':
      console.log(`sealed ${await sealUnsealedRows(store)} audit row(s)`);
      break;
    default:
      console.error(usage);
      process.exitCode = 2;
  }
} finally {
  await store.$disconnect();
}
