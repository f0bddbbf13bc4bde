// Field errors worded exactly as k8s.io/apimachinery/pkg/util/validation/field renders them
// (Kubernetes 1.31), so that users and tests read the same text a real kube-apiserver returns.

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTypeInvalid'
  | 'FieldValueForbidden'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueUnknown';

/** One validation failure; `message` is the part after "<field>: " in kube-apiserver wording. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  message: string;
}

/** Renders a value the way Go's `%v`/`%q` does for the JSON-decoded types the API server holds. */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return '"null"';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return goSyntax(value);
}

/** Go prints float64 with %v as shortest repr, switching to exponent form below 1e-4 or from 1e21. */
export function goNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const abs = Math.abs(n);
  let s = abs !== 0 && (abs < 1e-4 || abs >= 1e21) ? n.toExponential() : String(n);
  s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  return s;
}

/** Go's `%#v` for decoded JSON (maps and slices of interface{}), used in Duplicate/Invalid values. */
export function goSyntax(value: unknown): string {
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${goSyntax((value as Record<string, unknown>)[k])}`);
    return `map[string]interface {}{${entries.join(', ')}}`;
  }
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : goNumber(value);
  return String(value);
}

function withDetail(head: string, detail?: string): string {
  return detail ? `${head}: ${detail}` : head;
}

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, message: withDetail('Required value', detail) };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: withDetail(`Invalid value: ${goValue(value)}`, detail) };
}

export function typeInvalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueTypeInvalid', field, message: withDetail(`Invalid value: ${goValue(value)}`, detail) };
}

export function notSupported(field: string, value: unknown, supported: string[]): FieldError {
  const detail = supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '';
  return { type: 'FieldValueNotSupported', field, message: withDetail(`Unsupported value: ${goValue(value)}`, detail) };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, message: withDetail('Forbidden', detail) };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, message: `Duplicate value: ${goValue(value)}` };
}

/** Kubernetes 1.31 `field.TooLongMaxLength`: the value itself is never echoed. */
export function tooLong(field: string, maxLength: number): FieldError {
  const detail = maxLength >= 0 ? `may not be longer than ${maxLength}` : 'value is too long';
  return { type: 'FieldValueTooLong', field, message: `Too long: ${detail}` };
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  const detail = max >= 0 ? `must have at most ${max} items` : 'has too many items';
  const head = actual >= 0 ? `Too many: ${actual}` : 'Too many';
  return { type: 'FieldValueTooMany', field, message: `${head}: ${detail}` };
}

/** The one-line form kube-apiserver joins into a Status message: "<field>: <message>". */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${e.message}`;
}

/** Field paths in `field.Path` notation: children joined by ".", indexes and map keys in brackets. */
export function childPath(parent: string, name: string): string {
  return parent ? `${parent}.${name}` : name;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

export function keyPath(parent: string, key: string): string {
  return `${parent}[${key}]`;
}
