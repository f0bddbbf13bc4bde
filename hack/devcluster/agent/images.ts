// Loads hack/devcluster/images.yaml and resolves a container's image to a local command line
// with Docker semantics (command replaces entrypoint, args replace the default cmd).
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

export interface ImageEntry {
  names: string[];
  entrypoint: string[];
  cmd?: string[];
  cwd: 'repo' | 'pod';
  /** The image's default user ("65532:65532"; unset: root), as Docker's USER. */
  user?: string;
  /** The image's environment (Docker's ENV): under the container's own env. */
  env?: Record<string, string>;
}

export class ImageConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageConfigError';
  }
}

export function parseImageConfig(text: string, source = 'images.yaml'): ImageEntry[] {
  let doc: any;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new ImageConfigError(`${source}: invalid YAML`, { cause: err });
  }
  const list = doc?.images;
  if (!Array.isArray(list)) throw new ImageConfigError(`${source}: expected a top-level "images" list`);
  return list.map((e: any, i: number) => {
    const names = Array.isArray(e?.names) ? e.names.map(String) : [];
    if (names.length === 0) throw new ImageConfigError(`${source}: images[${i}].names must be a non-empty list`);
    if (!Array.isArray(e.entrypoint)) throw new ImageConfigError(`${source}: images[${i}].entrypoint must be a list`);
    const cwd = e.cwd ?? 'repo';
    if (cwd !== 'repo' && cwd !== 'pod')
      throw new ImageConfigError(`${source}: images[${i}].cwd must be "repo" or "pod"`);
    if (e.user !== undefined && !/^(\d+|[a-z_][a-z0-9_-]*)(:\d+)?$/.test(String(e.user)))
      throw new ImageConfigError(`${source}: images[${i}].user must be a user name or id, optionally ":group id"`);
    if (e.env !== undefined && (typeof e.env !== 'object' || Array.isArray(e.env)))
      throw new ImageConfigError(`${source}: images[${i}].env must be a map`);
    return {
      names,
      entrypoint: e.entrypoint.map(String),
      cmd: Array.isArray(e.cmd) ? e.cmd.map(String) : undefined,
      cwd,
      ...(e.user !== undefined ? { user: String(e.user) } : {}),
      ...(e.env ? { env: Object.fromEntries(Object.entries(e.env).map(([k, v]) => [k, String(v)])) } : {}),
    };
  });
}

export function loadImageConfig(path: string): ImageEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ImageConfigError(`cannot read ${path}`, { cause: err });
  }
  return parseImageConfig(text, path);
}

/** Image reference without digest and tag, and without the implicit Docker Hub prefixes. */
export function normalizeImageName(image: string): string {
  let name = image.split('@')[0];
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  name = name.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  name = name.replace(/^library\//, '');
  return name;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function findImage(entries: ImageEntry[], image: string): ImageEntry | undefined {
  const name = normalizeImageName(image);
  // Also try without a registry host (e.g. ghcr.io/modelship/serving → modelship/serving).
  const parts = name.split('/');
  const withoutRegistry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.slice(1).join('/') : name;
  return entries.find((e) =>
    e.names.some((g) => {
      const re = globToRegExp(g);
      return re.test(name) || re.test(withoutRegistry);
    }),
  );
}

/** Docker semantics: `command` replaces the entrypoint; `args` replace the default cmd. */
export function commandLine(entry: ImageEntry, command: string[] | undefined, args: string[] | undefined): string[] {
  if (command && command.length > 0) return [...command, ...(args ?? [])];
  return [...entry.entrypoint, ...(args ?? entry.cmd ?? [])];
}
