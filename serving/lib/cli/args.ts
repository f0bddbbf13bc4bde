// A small flag parser: --flag value, --flag=value, and boolean --flag. Unknown flags are an
// error (a typo must not silently fall back to a default).
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

export type FlagKind = 'string' | 'number' | 'boolean';

export function parseFlags<T extends Record<string, FlagKind>>(
  argv: string[],
  spec: T,
): { [K in keyof T]?: T[K] extends 'number' ? number : T[K] extends 'boolean' ? boolean : string } {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (!kind)
      throw new UsageError(
        `unknown flag --${name} (flags: ${Object.keys(spec)
          .map((f) => `--${f}`)
          .join(', ')})`,
      );
    if (kind === 'boolean') {
      out[name] = eq === -1 ? true : arg.slice(eq + 1) !== 'false';
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (kind === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n))
        throw new UsageError(`--${name} must be a number, got "${value}"`);
      out[name] = n;
    } else out[name] = value;
  }
  return out as never;
}
