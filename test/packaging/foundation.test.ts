// The repository foundation: the pinned tools are the versions the design promises.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';

test('kubectl is the pinned v1.31 client', () => {
  const out = execFileSync('hack/bin/kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  const v = JSON.parse(out).clientVersion;
  assert.is(v.major, '1');
  assert.is(v.minor, '31');
});

test('helm is the pinned v3.17', () => {
  const out = execFileSync('hack/bin/helm', ['version', '--short'], { encoding: 'utf8' });
  assert.match(out, /^v3\.17\./);
});

test.run();
