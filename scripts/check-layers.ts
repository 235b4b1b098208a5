// Checks the layering rule of docs/architecture.md ("Layers") on the repository's TypeScript sources:
//  (a) nothing in lib/ imports from workflows/, activities/, api/, worker/ or dashboard/ (type imports
//      included: the vocabulary sits at the bottom);
//  (b) the workflow bundle (every module reachable from workflows/index.ts through value imports;
//      `import type` and `export type` do not count) imports no zod, no Node built-in, no
//      @temporalio/client|worker|activity and no Prisma: it must load in Temporal's deterministic sandbox.
// Usage: node --import tsx scripts/check-layers.ts [root]   (exit 1 and one line per violation)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Folders that hold no source of ours (dependencies, generated clients, build output, data). */
const SKIPPED_DIRS = new Set([
  'node_modules',
  '.git',
  '.next',
  '.venv',
  'generated',
  'test-output',
  'data',
  'results',
]);
/** Top-level folders lib/ must not import from: they sit above it. */
const ABOVE_LIB = ['workflows', 'activities', 'api', 'worker', 'dashboard'];
export const BUNDLE_ENTRY = 'workflows/index.ts';

export interface ImportLine {
  /** 1-based line of the import in its file. */
  line: number;
  /** The module specifier as written. */
  specifier: string;
  /** `import type` / `export type`: erased at compile time, so it loads nothing. */
  typeOnly: boolean;
  /** The statement's first line, for the message. */
  text: string;
}

export interface Violation {
  file: string;
  line: number;
  importText: string;
  rule: string;
}

/**
 * Every import of a file: import and export-from declarations, `import x = require()`, dynamic import()
 * and require() calls. Under verbatimModuleSyntax `import { type A }` still loads its module, so only a
 * declaration-level `type` makes an import type-only.
 */
export function importsOf(fileName: string, source: string): ImportLine[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: ImportLine[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const start = node.getStart(sf);
    found.push({
      line: sf.getLineAndCharacterOfPosition(start).line + 1,
      specifier: specifier.text,
      typeOnly,
      text: source.slice(start, node.getEnd()).split('\n')[0]!.trim(),
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node)) {
      if (ts.isExternalModuleReference(node.moduleReference)) {
        add(node, node.moduleReference.expression, node.isTypeOnly);
      }
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isImport || isRequire) add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      return; // import('x').T in a type position loads nothing
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** Repository-relative paths (with '/') of every .ts/.tsx source under root. */
function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(path.join(dir, entry.name));
      } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push(path.relative(root, path.join(dir, entry.name)).split(path.sep).join('/'));
      }
    }
  };
  walk(root);
  return files.sort();
}

/** The repository file a relative specifier names, or null for a package (or a file that is not there). */
function resolveRelative(root: string, from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = path.join(path.dirname(path.join(root, from)), specifier);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    `${base}.ts`,
    `${base}.tsx`,
    path.join(base, 'index.ts'),
  ];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return hit ? path.relative(root, hit).split(path.sep).join('/') : null;
}

/** The top-level folder a relative import lands in, whether or not the file resolves. */
function topFolderOf(root: string, from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = path.relative(root, path.join(path.dirname(path.join(root, from)), specifier));
  return target.startsWith('..') ? null : target.split(path.sep)[0]!;
}

const NODE_BUILTINS = new Set(builtinModules);
/** Why a package may not load in the workflow bundle, or null when it may. */
function forbiddenInBundle(specifier: string): string | null {
  const name = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0]!;
  if (name === 'zod') return 'zod (validation belongs to the API and activities)';
  if (specifier.startsWith('node:') || NODE_BUILTINS.has(name)) return 'a Node built-in';
  if (['@temporalio/client', '@temporalio/worker', '@temporalio/activity'].includes(name)) {
    return `${name} (only @temporalio/workflow and @temporalio/common run in a workflow)`;
  }
  if (name === 'prisma' || name.startsWith('@prisma/')) return 'Prisma';
  return null;
}

/** All violations of both rules under root (a repository or a fixture tree). */
export function checkLayers(root: string): Violation[] {
  const files = sourceFiles(root);
  const imports = new Map(files.map((f) => [f, importsOf(f, readFileSync(path.join(root, f), 'utf8'))]));
  const violations: Violation[] = [];

  for (const [file, lines] of imports) {
    if (!file.startsWith('lib/')) continue;
    for (const imp of lines) {
      const top = topFolderOf(root, file, imp.specifier);
      if (top && ABOVE_LIB.includes(top)) {
        violations.push({
          file,
          line: imp.line,
          importText: imp.text,
          rule: `lib/ must not import from ${top}/ (lib/ is the bottom layer: move the shared code down)`,
        });
      }
    }
  }

  // Breadth first from the entry, so each module's path from the entry is a shortest one.
  if (imports.has(BUNDLE_ENTRY)) {
    const reachedFrom = new Map<string, string | null>([[BUNDLE_ENTRY, null]]);
    const queue = [BUNDLE_ENTRY];
    const chain = (file: string): string => {
      const parts = [file];
      for (let p = reachedFrom.get(file); p; p = reachedFrom.get(p)) parts.unshift(p);
      return parts.join(' → ');
    };
    while (queue.length > 0) {
      const file = queue.shift()!;
      for (const imp of imports.get(file) ?? []) {
        if (imp.typeOnly) continue;
        const forbidden = forbiddenInBundle(imp.specifier);
        const target = resolveRelative(root, file, imp.specifier);
        const prisma = imp.specifier.startsWith('.') && /(^|\/)generated\/prisma/.test(imp.specifier);
        if ((forbidden && !imp.specifier.startsWith('.')) || prisma) {
          violations.push({
            file,
            line: imp.line,
            importText: imp.text,
            rule: `the workflow bundle must not load ${prisma ? 'Prisma' : forbidden} (reached by value imports: ${chain(file)}); import it as a type, or move the value to a module without it`,
          });
        }
        if (target && imports.has(target) && !reachedFrom.has(target)) {
          reachedFrom.set(target, file);
          queue.push(target);
        }
      }
    }
  }
  return violations;
}

export const formatViolation = (v: Violation) => `${v.file}:${v.line}: ${v.importText}\n  ${v.rule}`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const violations = checkLayers(root);
  for (const v of violations) console.error(formatViolation(v));
  if (violations.length > 0) {
    console.error(
      `[check-layers] ${violations.length} violation(s) of the layering rule (docs/architecture.md)`,
    );
    process.exit(1);
  }
  console.log(
    '[check-layers] lib/ imports nothing above it; the workflow bundle is zod-, Node- and Prisma-free',
  );
}
