// Leader election on a coordination.k8s.io/v1 Lease (decisions in lease.ts). The leader
// renews every retry period; if it cannot renew for `renewDeadlineMs` it stops leading at
// once (before `leaseDurationMs` lets a successor in). A lease taken by someone else is
// noticed on the next renew. `release()` hands the lease back for an immediate takeover.
import { sleep } from './backoff.js';
import type { KubeClient } from './client.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import { Kinds, type KubeObject } from './kinds.js';
import { decideLease, releasedSpec, type LeaseObservation, type LeaseSpec } from './lease.js';
import { errorChain, type Logger } from './logger.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

interface LeaseObject extends KubeObject {
  spec?: LeaseSpec;
}

export class LeaderElector {
  private observation?: LeaseObservation;
  private leading = false;
  private lastRenewMs = 0;
  private deadline?: NodeJS.Timeout;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly config: LeaderElectionConfig,
    private readonly callbacks: LeaderCallbacks,
    private readonly log: Logger,
  ) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; if leading, stops leading and releases the lease. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.abort.abort();
    await this.loop;
    const wasLeading = this.leading;
    this.stepDown('shutting down');
    if (wasLeading && opts.release !== false) await this.release();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const acquired = await this.tryAcquireOrRenew();
      if (signal.aborted) break;
      if (acquired) {
        this.lastRenewMs = Date.now();
        this.armDeadline();
        if (!this.leading) {
          this.leading = true;
          this.log.info('Became leader', { lease: this.leaseName() });
          this.callbacks.onStartedLeading();
        }
      } else if (this.leading && Date.now() - this.lastRenewMs >= this.renewDeadlineMs) {
        this.stepDown('could not renew the lease within the renew deadline');
      }
      // Jitter keeps two candidates from colliding on every attempt.
      await sleep(this.retryPeriodMs * (this.leading ? 1 : 1 + Math.random() * 0.2), signal);
    }
  }

  /** True when we hold the lease after this attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.config;
    try {
      let current: LeaseObject | undefined;
      try {
        current = await this.client.get<LeaseObject>(Kinds.Lease, namespace, name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      const decision = decideLease(
        current?.spec,
        this.observation,
        { identity, leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000) },
        Date.now(),
      );
      this.observation = decision.observation;
      if (decision.action === 'wait') {
        if (this.leading) this.stepDown(`lease is now held by ${decision.holder}`);
        return false;
      }
      const body: LeaseObject =
        decision.action === 'create'
          ? { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: decision.spec }
          : { ...current, spec: decision.spec };
      const stored = decision.action === 'create' ? await this.client.create(body) : await this.client.replace(body);
      this.observation = { spec: stored.spec ?? decision.spec, observedAtMs: Date.now() };
      return true;
    } catch (e) {
      // Someone else won the race (409) or the server is unavailable: try again next period.
      if (!isConflict(e) && !isAlreadyExists(e))
        this.log.warn('Leader election attempt failed', { lease: this.leaseName(), error: errorChain(e) });
      return false;
    }
  }

  /** Stops leading immediately if the lease was not renewed in time, even if a request hangs. */
  private armDeadline(): void {
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.stepDown('renew deadline passed'), this.renewDeadlineMs);
    this.deadline.unref?.();
  }

  private stepDown(reason: string): void {
    clearTimeout(this.deadline);
    if (!this.leading) return;
    this.leading = false;
    this.log.warn('Stopped leading', { lease: this.leaseName(), reason });
    this.callbacks.onStoppedLeading();
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.config;
    try {
      const current = await this.client.get<LeaseObject>(Kinds.Lease, namespace, name);
      if (current.spec?.holderIdentity !== identity) return;
      await this.client.replace({ ...current, spec: releasedSpec(current.spec, Date.now()) });
      this.log.info('Released leader lease', { lease: this.leaseName() });
    } catch (e) {
      this.log.warn('Could not release leader lease', { lease: this.leaseName(), error: errorChain(e) });
    }
  }

  private leaseName(): string {
    return `${this.config.namespace}/${this.config.name}`;
  }
}
