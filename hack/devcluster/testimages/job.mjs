#!/usr/bin/env node
// Test image "modelship/test-job": a batch step for the dev cluster's tests.
//   --message <text>   written to the termination message file ($TERMINATION_MESSAGE_PATH,
//                      else --termination-path, else /dev/termination-log as in a container)
//   --exit-code <n>    exit status (default 0)
//   --sleep-ms <n>     how long to work before exiting (default 0)
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const message = opt('message', undefined);
const exitCode = Number(opt('exit-code', '0'));
const sleepMs = Number(opt('sleep-ms', '0'));
const path = process.env.TERMINATION_MESSAGE_PATH || opt('termination-path', '/dev/termination-log');

console.log(`job ${process.env.HOSTNAME ?? ''} starting; will exit ${exitCode} after ${sleepMs} ms`);
process.on('SIGTERM', () => {
  console.log('received SIGTERM');
  process.exit(143);
});
setTimeout(() => {
  if (message !== undefined) writeFileSync(path, message);
  console.log(`job done, exit ${exitCode}`);
  process.exit(exitCode);
}, sleepMs);
