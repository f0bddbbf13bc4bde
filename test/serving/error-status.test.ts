// The one error mapping: a 401 always says how to authenticate (RFC 9110 §15.5.2), and only a
// missing or wrong credential is a 401 — the web page asks a person for the credential on 401.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ServingError, type ErrorCode } from '../../serving/lib/errors.js';
import { errorHeaders, httpStatusOf, statusByCode } from '../../serving/lib/protocol/error-status.js';

const test = suite('serve: error status mapping');

test('every 401 carries WWW-Authenticate', () => {
  const unauthorised = (Object.keys(statusByCode) as ErrorCode[]).filter((c) => statusByCode[c] === 401);
  assert.equal(unauthorised, ['UNAUTHENTICATED']);
  for (const code of unauthorised)
    assert.match(errorHeaders(new ServingError(code, 'x'))?.['www-authenticate'] ?? '', /^Bearer realm=/, code);
});

test('token problems are the input, not the credential', () => {
  const cases: Array<[ErrorCode, number]> = [
    ['TOKEN_INVALID', 400],
    ['TOKEN_FORGED', 403],
    ['TOKEN_EXPIRED', 410],
    ['ALREADY_COUNTED', 409],
  ];
  for (const [code, status] of cases) assert.is(httpStatusOf(new ServingError(code, 'x')), status, code);
});

test.run();
