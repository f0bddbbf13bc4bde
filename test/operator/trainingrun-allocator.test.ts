// VersionAllocator: numbers above what the cache shows and what was handed out, and numbers
// whose recording write failed handed out again first, so versions stay 1..N without gaps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { VersionAllocator } from '../../operator/controllers/trainingrun/register.js';

test('next: above the cache and above its own hand-outs, per namespace and model', () => {
  const a = new VersionAllocator();
  assert.is(a.next('ml', 'faces', []), 1);
  assert.is(a.next('ml', 'faces', []), 2, 'the cache has not caught up: still no reuse');
  assert.is(a.next('ml', 'faces', ['faces-v7', 'other-v9']), 8);
  assert.is(a.next('ml', 'other', []), 1);
  assert.is(a.next('dev', 'faces', []), 1);
});

test('giveBack: a number whose status write failed is handed out again before a new one', () => {
  const a = new VersionAllocator();
  const [v1, v2, v3] = [a.next('ml', 'faces', []), a.next('ml', 'faces', []), a.next('ml', 'faces', [])];
  assert.equal([v1, v2, v3], [1, 2, 3]);
  a.giveBack('ml', 'faces', 3);
  a.giveBack('ml', 'faces', 2);
  assert.is(a.next('ml', 'faces', ['faces-v1']), 2, 'lowest returned first');
  assert.is(a.next('ml', 'faces', ['faces-v1']), 3);
  assert.is(a.next('ml', 'faces', ['faces-v1']), 4, 'then above everything again');
});

test('giveBack: a returned number that turned out to be created (the write landed after all) is skipped', () => {
  const a = new VersionAllocator();
  a.next('ml', 'faces', []);
  a.next('ml', 'faces', []);
  a.giveBack('ml', 'faces', 1);
  assert.is(a.next('ml', 'faces', ['faces-v1']), 3);
  a.giveBack('ml', 'other', 5);
  assert.is(a.next('ml', 'faces', []), 4, 'returns are per model');
});

test.run();
