// Name rules from k8s.io/apimachinery/pkg/util/validation, with their exact messages.
import { invalid, required, type FieldError } from './errors.js';
import { isPlainObject } from './types.js';

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1035_LABEL = new RegExp(`^${DNS1035_LABEL_FMT}$`);

function maxLenError(n: number): string {
  return `must be no more than ${n} characters`;
}

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" +
        DNS1123_SUBDOMAIN_FMT +
        "')",
    );
  }
  return errs;
}

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!DNS1123_LABEL.test(value)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" +
        DNS1123_LABEL_FMT +
        "')",
    );
  }
  return errs;
}

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!DNS1035_LABEL.test(value)) {
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '" +
        DNS1035_LABEL_FMT +
        "')",
    );
  }
  return errs;
}

/**
 * The name part of apimachinery's ValidateObjectMeta: name or generateName present, and the name
 * (or generateName minus its trailing dash) a DNS subdomain; one Invalid error per failed rule.
 */
export function validateObjectMetaName(
  metadata: unknown,
  nameRules: (name: string, prefix: boolean) => string[] = (n) => isDNS1123Subdomain(n),
): FieldError[] {
  const meta = isPlainObject(metadata) ? metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const generateName = typeof meta.generateName === 'string' ? meta.generateName : '';
  const errs: FieldError[] = [];
  if (generateName) {
    // upstream masks a trailing dash (the random suffix follows it) before checking the prefix
    for (const msg of nameRules(generateName.replace(/-$/, 'a'), true)) errs.push(invalid('metadata.generateName', generateName, msg));
  }
  if (!name) {
    if (!generateName) errs.push(required('metadata.name', 'name or generateName is required'));
    return errs;
  }
  for (const msg of nameRules(name, false)) errs.push(invalid('metadata.name', name, msg));
  return errs;
}
