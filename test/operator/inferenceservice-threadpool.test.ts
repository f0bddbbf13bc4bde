import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuCores, servingThreadpoolSize } from '../../operator/controllers/inferenceservice/threadpool.js';

const quantities: Array<[number | string | undefined, number | undefined]> = [
  ['2', 2],
  ['500m', 0.5],
  ['1500m', 1.5],
  ['1.5', 1.5],
  [3, 3],
  ['.5', 0.5],
  ['1e3m', 1],
  ['2k', 2000],
  [undefined, undefined],
  ['', undefined],
  ['two', undefined],
  ['0', undefined],
  ['-1', undefined],
  ['1Gi', undefined],
];
for (const [q, want] of quantities)
  test(`cpuCores(${JSON.stringify(q)}) = ${want}`, () => assert.is(cpuCores(q), want));

const sizes: Array<[string, Parameters<typeof servingThreadpoolSize>[0], number]> = [
  ['no resources: 2', undefined, 2],
  ['the default request of 250m: 2', { requests: { cpu: '250m' } }, 2],
  ['a 4-core limit: 4', { limits: { cpu: '4' } }, 4],
  ['the limit wins over the request', { requests: { cpu: '1' }, limits: { cpu: '3' } }, 3],
  ['a request alone, rounded up', { requests: { cpu: '2500m' } }, 3],
  ['memory only: 2', { limits: { memory: '1Gi' } }, 2],
  ['bounded at 64', { limits: { cpu: 500 } }, 64],
];
for (const [name, resources, want] of sizes)
  test(`servingThreadpoolSize: ${name}`, () => assert.is(servingThreadpoolSize(resources), want));

test.run();
