// The router's routing table: its JSON shape, its JSON Schema (ajv) and the checks a schema
// cannot express (unique roles, the mirror role must exist). Pure: no I/O here, so the file
// source and the operator's future "watch the InferenceService" source share one validator.
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';

export interface Upstream {
  /** Traffic role, e.g. "stable" or "canary"; unique within a config. */
  role: string;
  /** Model version served by this upstream; reported in `x-modelship-version`. */
  version: string;
  /** Base URL, http: or https:, e.g. "http://127.96.0.4:80". */
  url: string;
  /** Relative share of unpinned traffic (any non-negative number; 0 = pinned requests only). */
  weight: number;
  /**
   * The ready pods behind `url`, when known: feedback for a prediction is sent to one of them,
   * the same one every time, so that its replay memory sees every replay.
   */
  endpoints?: string[];
}

export interface RouterConfig {
  model: string;
  upstreams: Upstream[];
  /** Copy `percent` % of requests to the upstream with `role` (response ignored). */
  mirror?: { role: string; percent: number };
  /** Route requests carrying this header or cookie consistently onto the weights. */
  sticky?: { header?: string; cookie?: string };
  /** Optional generation of whatever produced this table (e.g. the InferenceService). */
  generation?: number;
  /**
   * Request headers a version or role pin is taken from. None by default: a pin chooses which
   * version answers (and whose feedback and errors count), so it is honoured only from a header
   * a trusted proxy in front of the router sets and strips from client requests.
   */
  pins?: { versionHeader?: string; roleHeader?: string };
}

const name = { type: 'string', minLength: 1, maxLength: 253 } as const;

export const routerConfigSchema = {
  $id: 'https://modelship.dev/schemas/router-config.json',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'upstreams'],
  properties: {
    model: name,
    generation: { type: 'integer', minimum: 0 },
    upstreams: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'version', 'url', 'weight'],
        properties: {
          role: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
          version: name,
          url: { type: 'string', format: 'uri', pattern: '^https?://' },
          weight: { type: 'number', minimum: 0, maximum: 1000000 },
          endpoints: {
            type: 'array',
            maxItems: 1000,
            items: { type: 'string', format: 'uri', pattern: '^https?://' },
          },
        },
      },
    },
    mirror: {
      type: 'object',
      additionalProperties: false,
      required: ['role', 'percent'],
      properties: {
        role: { type: 'string', minLength: 1 },
        percent: { type: 'number', minimum: 0, maximum: 100 },
      },
    },
    pins: {
      type: 'object',
      additionalProperties: false,
      properties: {
        versionHeader: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,99}$' },
        roleHeader: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,99}$' },
      },
    },
    sticky: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        header: { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
        cookie: { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
      },
    },
  },
} as const;

/** A routing table that failed validation; `problems` name the offending fields. */
export class RouterConfigError extends Error {
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid router config: ${problems.join('; ')}`, options);
    this.name = 'RouterConfigError';
  }
}

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped once more.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateSchema = ajv.compile<RouterConfig>(routerConfigSchema);

function describe(error: ErrorObject): string {
  const at = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return `${at}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (error.keyword === 'required') {
    return `${at}: missing field "${(error.params as { missingProperty: string }).missingProperty}"`;
  }
  return `${at}: ${error.message ?? error.keyword}`;
}

/** Checks across fields that JSON Schema cannot state. */
function semanticProblems(config: RouterConfig): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  config.upstreams.forEach((u, i) => {
    const first = seen.get(u.role);
    if (first !== undefined)
      problems.push(`/upstreams/${i}/role: duplicate role "${u.role}" (also /upstreams/${first})`);
    else seen.set(u.role, i);
  });
  if (config.mirror && !seen.has(config.mirror.role)) {
    problems.push(`/mirror/role: no upstream has role "${config.mirror.role}"`);
  }
  return problems;
}

/** Validates an already-parsed value; returns it typed or throws RouterConfigError. */
export function validateRouterConfig(value: unknown): RouterConfig {
  if (!validateSchema(value)) {
    throw new RouterConfigError((validateSchema.errors ?? []).map(describe));
  }
  const problems = semanticProblems(value);
  if (problems.length > 0) throw new RouterConfigError(problems);
  return value;
}

/** Parses JSON text and validates it; syntax errors become RouterConfigError too. */
export function parseRouterConfig(text: string): RouterConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RouterConfigError([`/: not valid JSON (${(err as Error).message})`], { cause: err });
  }
  return validateRouterConfig(value);
}
