// x-kubernetes-validations: compile each rule once (parse, a schema-aware static check standing in
// for cel-go's type checker, plan), and evaluate it against schema-typed CEL values.
import { parse, plan, isCelError, type CelResult } from '@bufbuild/cel';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { celEnvironment, isKnownFunction } from './cel-env.js';
import type { SchemaNode } from './node.js';
import type { ValidationRule } from './types.js';

type Program = (bindings: Record<string, unknown>) => CelResult;

export interface CompiledRule {
  rule: ValidationRule;
  index: number;
  program: Program;
  messageProgram: Program | undefined;
  /** References oldSelf: skipped when there is no correlated old value (create, newly added field). */
  isTransition: boolean;
}

export class CelCompileError extends Error {
  /** Which expression of the rule failed to compile. */
  part: 'rule' | 'messageExpression' = 'rule';
}

// ---------------------------------------------------------------------------------------------
// Static check: the parts of cel-go's checker that catch real authoring mistakes in CRD rules.

/** What the checker knows about an expression's value. `undefined` node = dyn (no checks). */
interface Scope {
  vars: Map<string, SchemaNode | undefined>;
}

interface Positions {
  offsets: Map<bigint, number>;
  source: string;
  /** Problems found so far, reported together (sorted by position) as cel-go does. */
  problems: { offset: number; text: string }[];
}

/** cel-go's error block: "<input>:L:C: msg", the source line, and a caret under the column. */
function describe(source: string, offset: number, message: string): string {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - (before.lastIndexOf('\n') + 1);
  const srcLine = source.split('\n')[line - 1] ?? '';
  return `ERROR: <input>:${line}:${col + 1}: ${message}\n | ${srcLine}\n | ${'.'.repeat(col)}^`;
}

/**
 * Where cel-go points: a field selection at its '.', a call at its '('. @bufbuild/cel records
 * other offsets for some nodes, so the source is searched from the node's operand onwards.
 */
function offsetOf(expr: Expr, pos: Positions): number {
  const own = pos.offsets.get(expr.id) ?? 0;
  const k = expr.exprKind;
  if (k.case === 'selectExpr') {
    const from = k.value.operand ? (pos.offsets.get(k.value.operand.id) ?? 0) : 0;
    const i = pos.source.indexOf(`.${k.value.field}`, from);
    return pos.source[own] === '.' ? own : i >= 0 ? i : own;
  }
  if (k.case === 'callExpr') {
    const fn = k.value.function;
    if (k.value.target) {
      const i = pos.source.indexOf(`.${fn}`, pos.offsets.get(k.value.target.id) ?? 0);
      const paren = i >= 0 ? pos.source.indexOf('(', i) : -1;
      return paren >= 0 ? paren : own;
    }
    const i = pos.source.indexOf(`${fn}(`, Math.max(0, own - fn.length - 1));
    return i >= 0 ? i + fn.length : own;
  }
  return own;
}

function fail(expr: Expr, pos: Positions, message: string): undefined {
  pos.problems.push({ offset: offsetOf(expr, pos), text: message });
  return undefined;
}

/** Type names are identifiers in CEL (`type(self) == int`). */
const TYPE_IDENTS = new Set([
  'int',
  'uint',
  'double',
  'string',
  'bool',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
  'dyn',
]);

/** Walks the parsed expression, returning the schema node its value has when known. */
function checkExpr(expr: Expr, scope: Scope, pos: Positions): SchemaNode | undefined {
  const k = expr.exprKind;
  switch (k.case) {
    case 'identExpr': {
      if (TYPE_IDENTS.has(k.value.name) && !scope.vars.has(k.value.name)) return undefined;
      if (!scope.vars.has(k.value.name))
        return fail(expr, pos, `undeclared reference to '${k.value.name}' (in container '')`);
      return scope.vars.get(k.value.name);
    }
    case 'selectExpr': {
      const operand = k.value.operand ? checkExpr(k.value.operand, scope, pos) : undefined;
      return selectField(operand, k.value.field, expr, pos);
    }
    case 'callExpr': {
      const { function: fn, args, target } = k.value;
      if (target) checkExpr(target, scope, pos);
      const argNodes = args.map((a) => checkExpr(a, scope, pos));
      if (!isKnownFunction(fn)) return fail(expr, pos, `undeclared reference to '${fn}' (in container '')`);
      if (fn === '_[_]' && argNodes[0]) return indexNode(argNodes[0]);
      if (fn === '_?_:_') return argNodes[1] ?? argNodes[2];
      return undefined;
    }
    case 'listExpr':
      k.value.elements.forEach((e) => checkExpr(e, scope, pos));
      return undefined;
    case 'structExpr':
      k.value.entries.forEach((e) => {
        if (e.keyKind.case === 'mapKey') checkExpr(e.keyKind.value, scope, pos);
        if (e.value) checkExpr(e.value, scope, pos);
      });
      return undefined;
    case 'comprehensionExpr': {
      const c = k.value;
      const range = c.iterRange ? checkExpr(c.iterRange, scope, pos) : undefined;
      if (c.accuInit) checkExpr(c.accuInit, scope, pos);
      const inner: Scope = { vars: new Map(scope.vars) };
      inner.vars.set(c.accuVar, undefined);
      inner.vars.set(c.iterVar, range ? iterationNode(range) : undefined);
      if (c.iterVar2) inner.vars.set(c.iterVar2, range ? indexNode(range) : undefined);
      if (c.loopCondition) checkExpr(c.loopCondition, inner, pos);
      if (c.loopStep) checkExpr(c.loopStep, inner, pos);
      const result: Scope = { vars: new Map(scope.vars) };
      result.vars.set(c.accuVar, undefined);
      if (c.result) checkExpr(c.result, result, pos);
      return undefined;
    }
    default:
      return undefined;
  }
}

function selectField(node: SchemaNode | undefined, field: string, expr: Expr, pos: Positions): SchemaNode | undefined {
  if (!node) return undefined;
  if (node.type === 'object' && node.properties && !node.preserveUnknown && !node.embedded) {
    const prop = [...node.properties.entries()].find(([name]) => escapeCelName(name) === field);
    if (!prop) return fail(expr, pos, `undefined field '${field}'`);
    return prop[1];
  }
  if (node.type === 'object' && typeof node.additional === 'object') return node.additional;
  if (node.type && node.type !== 'object' && !node.intOrString) {
    return fail(expr, pos, `type '${celTypeName(node)}' does not support field selection`);
  }
  return undefined;
}

function indexNode(node: SchemaNode): SchemaNode | undefined {
  if (node.type === 'array') return node.items;
  if (node.type === 'object' && typeof node.additional === 'object') return node.additional;
  return undefined;
}

/** Comprehensions over a list bind elements; over a map they bind keys (strings). */
function iterationNode(node: SchemaNode): SchemaNode | undefined {
  return node.type === 'array' ? node.items : undefined;
}

function celTypeName(node: SchemaNode): string {
  switch (node.type) {
    case 'integer':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    default:
      return node.type ?? 'dyn';
  }
}

function references(expr: Expr, name: string): boolean {
  let found = false;
  const visit = (e: Expr | undefined): void => {
    if (!e || found) return;
    const k = e.exprKind;
    switch (k.case) {
      case 'identExpr':
        found = k.value.name === name;
        return;
      case 'selectExpr':
        return visit(k.value.operand);
      case 'callExpr':
        visit(k.value.target);
        return k.value.args.forEach(visit);
      case 'listExpr':
        return k.value.elements.forEach(visit);
      case 'structExpr':
        return k.value.entries.forEach((en) => {
          if (en.keyKind.case === 'mapKey') visit(en.keyKind.value);
          visit(en.value);
        });
      case 'comprehensionExpr':
        [k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result].forEach(visit);
        return;
      default:
        return;
    }
  };
  visit(expr);
  return found;
}

function compileExpression(source: string, node: SchemaNode, withOldSelf: boolean): { program: Program; expr: Expr } {
  let parsed;
  try {
    parsed = parse(source);
  } catch (err) {
    throw syntaxError(source, err as Error);
  }
  const offsets = new Map(Object.entries(parsed.sourceInfo?.positions ?? {}).map(([id, off]) => [BigInt(id), off]));
  const pos: Positions = { offsets, source, problems: [] };
  const vars = new Map<string, SchemaNode | undefined>([['self', node]]);
  if (withOldSelf) vars.set('oldSelf', node);
  checkExpr(parsed.expr, { vars }, pos);
  if (pos.problems.length) {
    const sorted = pos.problems.sort((a, b) => a.offset - b.offset);
    throw new CelCompileError(sorted.map((p) => describe(source, p.offset, p.text)).join('\n'));
  }
  return { program: plan(celEnvironment, parsed) as Program, expr: parsed.expr };
}

/** The parser's "<input>:L:C: found x but expecting y" as a cel-go style syntax error block. */
function syntaxError(source: string, err: Error): CelCompileError {
  const m = /^<input>:(\d+):(\d+): (.*)$/s.exec(err.message);
  if (!m) return new CelCompileError(`ERROR: <input>:1:1: Syntax error: ${err.message}`, { cause: err });
  const lines = source.split('\n');
  const offset = lines.slice(0, Number(m[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(m[2]) - 1;
  return new CelCompileError(describe(source, offset, `Syntax error: ${m[3]}`), { cause: err });
}

/** Compiles one rule; throws CelCompileError with cel-go style text ("ERROR: <input>:1:6: ..."). */
export function compileRule(rule: ValidationRule, index: number, node: SchemaNode): CompiledRule {
  const { program, expr } = compileExpression(rule.rule, node, true);
  const isTransition = references(expr, 'oldSelf');
  let messageProgram: Program | undefined;
  if (rule.messageExpression) {
    try {
      messageProgram = compileExpression(rule.messageExpression, node, isTransition).program;
    } catch (err) {
      if (err instanceof CelCompileError) err.part = 'messageExpression';
      throw err;
    }
  }
  return { rule, index, program, messageProgram, isTransition };
}

// ---------------------------------------------------------------------------------------------
// Values: JSON decoded by the API server → CEL values typed by the schema (integer → int,
// number → double, int-or-string → int or string, unknown fields → dyn by their JSON shape).

const CEL_RESERVED = new Set([
  'true',
  'false',
  'null',
  'in',
  'as',
  'break',
  'const',
  'continue',
  'else',
  'for',
  'function',
  'if',
  'import',
  'let',
  'loop',
  'package',
  'namespace',
  'return',
  'var',
  'void',
  'while',
]);

/** Kubernetes escapes property names that are not CEL identifiers (e.g. "x-y" → "x__dash__y"). */
export function escapeCelName(name: string): string {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  if (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) && !name.includes('__')) return name;
  return name
    .replace(/__/g, '__underscores__')
    .replace(/\./g, '__dot__')
    .replace(/-/g, '__dash__')
    .replace(/\//g, '__slash__');
}

export type CelCache = WeakMap<object, unknown>;

/**
 * Kubernetes types `format: date-time` strings as timestamps and `format: duration` as durations;
 * CEL's own conversion functions build those values (no protobuf plumbing here).
 */
const FORMAT_CONVERSIONS: Record<string, Program> = {
  'date-time': plan(celEnvironment, parse('timestamp(v)')) as Program,
  duration: plan(celEnvironment, parse('duration(v)')) as Program,
};

function convertFormatted(value: string, format: string | undefined): unknown {
  const program = format ? FORMAT_CONVERSIONS[format] : undefined;
  if (!program) return value;
  const out = program({ v: value });
  return isCelError(out) ? value : out; // malformed values are reported by schema validation
}

export function toCel(value: unknown, node: SchemaNode | undefined, cache: CelCache): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return node?.type === 'string' ? convertFormatted(value, node.schema.format) : value;
  if (typeof value === 'number') {
    if (node?.type === 'number') return value;
    if (node?.type === 'integer' || node?.intOrString || !node || !node.type)
      return Number.isInteger(value) ? BigInt(value) : value;
    return value;
  }
  if (typeof value !== 'object') return value;
  const cached = cache.get(value);
  if (cached !== undefined) return cached;
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v) => toCel(v, node?.items, cache));
  } else {
    const obj: Record<string, unknown> = {};
    const props = node?.properties;
    for (const [k, v] of Object.entries(value)) {
      const prop = props?.get(k);
      if (prop) obj[escapeCelName(k)] = toCel(v, prop, cache);
      else obj[k] = toCel(v, node && typeof node.additional === 'object' ? node.additional : undefined, cache);
    }
    out = obj;
  }
  cache.set(value, out);
  return out;
}

export function evaluate(program: Program, self: unknown, oldSelf: unknown | undefined): CelResult {
  const bindings: Record<string, unknown> = { self };
  if (oldSelf !== undefined) bindings.oldSelf = oldSelf;
  try {
    return program(bindings);
  } catch (err) {
    return Object.assign(new Error((err as Error).message), { isThrown: true }) as unknown as CelResult;
  }
}

/** cel-go wording for the runtime errors users meet most ("no such key: x"). */
export function celErrorText(result: CelResult): string {
  const msg = (result as Error).message ?? String(result);
  return msg.replace(/^field not found: /, 'no such key: ');
}
