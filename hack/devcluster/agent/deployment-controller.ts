// Deployment controller: one ReplicaSet per pod template (by pod-template-hash), rolled out per
// the strategy, old revisions pruned, status and conditions as kube-controller-manager reports.
import type { KubeObject } from './kube-client.js';
import type { Informer } from './informer.js';
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import type { EventRecorder } from './events.js';
import { DEPLOYMENTS, REPLICASETS } from './resources.js';
import { isControlledBy, nowIso } from './util.js';
import {
  deploymentStatus,
  HASH_LABEL,
  isOldPodPresent,
  newReplicaSetFor,
  planScale,
  REVISION_ANNOTATION,
  revisionOf,
  templateHash,
} from './deployment-logic.js';

export class DeploymentController {
  readonly name = 'deployments';

  constructor(
    private readonly inf: Informers,
    private readonly w: CacheWriter,
    private readonly events: EventRecorder,
  ) {}

  async sync(): Promise<void> {
    const { deployments, replicasets, pods } = this.inf;
    for (const deploy of deployments.list()) {
      if (deploy.metadata.deletionTimestamp) continue;
      const hash = templateHash(deploy);
      const owned = replicasets.list(deploy.metadata.namespace).filter((rs) => isControlledBy(rs, deploy));
      let newRS = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash);
      const oldRSs = owned.filter((rs) => rs !== newRS);
      let createdNewRS = false;
      if (!newRS) {
        const revision = Math.max(0, ...owned.map(revisionOf)) + 1;
        const initial = oldRSs.some((rs) => (rs.spec?.replicas ?? 0) > 0)
          ? 0
          : deploy.spec?.strategy?.type === 'Recreate'
            ? 0
            : (deploy.spec?.replicas ?? 1);
        newRS = await this.w.create(REPLICASETS, replicasets, newReplicaSetFor(deploy, hash, revision, initial));
        createdNewRS = true;
      }
      if (!deploy.spec?.paused) {
        const oldPodsExist = oldRSs.some((rs) =>
          isOldPodPresent(pods.list(rs.metadata.namespace).filter((p) => isControlledBy(p, rs))),
        );
        const targets = planScale(deploy, newRS, oldRSs, oldPodsExist);
        for (const rs of [newRS, ...oldRSs]) {
          const want = targets.get(rs.metadata.name);
          const annotations = rs === newRS ? newRSAnnotations(deploy, newRS, oldRSs) : {};
          const needsAnn = Object.entries(annotations).some(([k, v]) => rs.metadata.annotations?.[k] !== v);
          if ((want !== undefined && want !== (rs.spec?.replicas ?? 0)) || needsAnn) {
            const next = structuredClone(rs);
            if (want !== undefined) next.spec.replicas = want;
            next.metadata.annotations = { ...(next.metadata.annotations ?? {}), ...annotations };
            await this.w.replace(REPLICASETS, replicasets, next);
            const from = rs.spec?.replicas ?? 0;
            if (want !== undefined && want !== from) {
              this.events.normal(
                deploy,
                'ScalingReplicaSet',
                `Scaled ${want > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${want}`,
              );
            }
          }
        }
      }
      this.pruneHistory(deploy, replicasets);
      const current = replicasets.list(deploy.metadata.namespace).filter((rs) => isControlledBy(rs, deploy));
      const currentNew = current.find((rs) => rs.metadata.name === newRS!.metadata.name) ?? newRS;
      const revision = currentNew.metadata.annotations?.[REVISION_ANNOTATION];
      if (revision && deploy.metadata.annotations?.[REVISION_ANNOTATION] !== revision) {
        const next = structuredClone(deploy);
        next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision };
        await this.w.replace(DEPLOYMENTS, deployments, next);
      }
      const latest = deployments.get(deploy.metadata.namespace, deploy.metadata.name) ?? deploy;
      const now = Date.now();
      await this.w.writeStatus(
        DEPLOYMENTS,
        deployments,
        latest,
        deploymentStatus({
          deploy: latest,
          newRS: currentNew,
          allRSs: current,
          createdNewRS,
          now,
          nowIso: nowIso(now),
        }),
      );
    }
  }

  private pruneHistory(deploy: KubeObject, replicasets: Informer): void {
    const limit = deploy.spec?.revisionHistoryLimit ?? 10;
    const hash = templateHash(deploy);
    const idle = replicasets
      .list(deploy.metadata.namespace)
      .filter(
        (rs) =>
          isControlledBy(rs, deploy) &&
          rs.metadata.labels?.[HASH_LABEL] !== hash &&
          (rs.spec?.replicas ?? 0) === 0 &&
          (rs.status?.replicas ?? 0) === 0 &&
          !rs.metadata.deletionTimestamp,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit)))
      void this.w.remove(REPLICASETS, replicasets, rs).catch(() => undefined);
  }
}

/**
 * Annotations the new ReplicaSet must carry: the desired replica count, and a revision above
 * every old ReplicaSet's (a rollback re-uses an old ReplicaSet and makes it the newest revision).
 */
function newRSAnnotations(deploy: KubeObject, newRS: KubeObject, oldRSs: KubeObject[]): Record<string, string> {
  const out: Record<string, string> = {
    'deployment.kubernetes.io/desired-replicas': String(deploy.spec?.replicas ?? 1),
  };
  const newest = Math.max(0, ...oldRSs.map(revisionOf));
  if (revisionOf(newRS) <= newest) out[REVISION_ANNOTATION] = String(newest + 1);
  return out;
}
