// The dev cluster's processes that chaos tests kill: the operator (operator/main.ts) and the
// standalone node agent (hack/devcluster/agent/main.ts), each as a ChaosProcess.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChaosProcess } from './process.js';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

export interface OperatorProcessOptions {
  kubeconfig: string;
  logDir: string;
  prometheusUrl?: string;
  /** Image of validation Jobs and serving pods (env MODELSHIP_SERVING_IMAGE). */
  servingImage?: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

/**
 * The operator binary as users run it, without leader election: a SIGKILLed leader's Lease
 * would hold the successor back for the whole lease duration, which only slows the trials;
 * what is under test is that reconciles resume from what is stored in the API server.
 */
export function operatorProcess(opts: OperatorProcessOptions): ChaosProcess {
  const args = [
    '--kubeconfig',
    opts.kubeconfig,
    '--leader-elect=false',
    '--metrics-port',
    '0',
    '--metrics-host',
    '127.0.0.1',
    '--log-level',
    opts.logLevel ?? 'info',
  ];
  if (opts.prometheusUrl) args.push('--prometheus-url', opts.prometheusUrl);
  const env = { ...process.env, ...(opts.servingImage ? { MODELSHIP_SERVING_IMAGE: opts.servingImage } : {}) };
  return new ChaosProcess({
    name: 'operator',
    script: 'operator/main.ts',
    args,
    cwd: REPO_ROOT,
    logFile: join(opts.logDir, 'operator.log'),
    env,
  });
}

/** The node agent alone; its pods die with it (they are started with a parent-death signal). */
export function agentProcess(opts: { kubeconfig: string; dataDir: string; logDir: string }): ChaosProcess {
  return new ChaosProcess({
    name: 'node agent',
    script: 'hack/devcluster/agent/main.ts',
    args: ['--kubeconfig', opts.kubeconfig, '--dir', opts.dataDir],
    cwd: REPO_ROOT,
    logFile: join(opts.logDir, 'agent.log'),
  });
}
