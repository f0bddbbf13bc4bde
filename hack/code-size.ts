// Prints the longest functions and the largest files of the production code (operator/ and
// serving/, tests and generated types left out), for reviews of a refactoring's effect.
// Usage: npx tsx hack/code-size.ts [count] [dir ...]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const count = Number(args[0] ?? 10);
const roots = args.length > 1 ? args.slice(1) : ['operator', 'serving'];
const isSource = (f: string) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.gen.ts');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path);
    return isSource(path) ? [path] : [];
  });
}

interface Fn {
  where: string;
  name: string;
  lines: number;
  params: number;
}

function functionName(node: ts.Node): string {
  const parent = node.parent;
  if ('name' in node && node.name && ts.isIdentifier(node.name as ts.Node)) return (node.name as ts.Identifier).text;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '<anonymous>';
}

function functionsOf(path: string): Fn[] {
  const text = readFileSync(path, 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const out: Fn[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({
        where: `${path}:${start + 1}`,
        name: functionName(node),
        lines: end - start + 1,
        params: node.parameters.length,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const all = roots.flatMap(files);
const fns = all.flatMap(functionsOf).sort((a, b) => b.lines - a.lines);
const sizes = all
  .map((f) => ({ f, lines: readFileSync(f, 'utf8').split('\n').length }))
  .sort((a, b) => b.lines - a.lines);
console.log(`Longest functions (${roots.join(', ')}):`);
for (const f of fns.slice(0, count))
  console.log(`  ${String(f.lines).padStart(4)} lines  ${f.params} params  ${f.name}  ${f.where}`);
console.log('Largest files:');
for (const s of sizes.slice(0, count)) console.log(`  ${String(s.lines).padStart(4)} lines  ${s.f}`);
const wide = all.reduce(
  (n, f) =>
    n +
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.length > 120).length,
  0,
);
console.log(
  `Lines over 120 characters: ${wide}; functions with more than 4 parameters: ${fns.filter((f) => f.params > 4).length}`,
);
