// What a TrainingRun may name that reaches beyond the run itself: the service account its pod
// runs as (and so its API permissions), its priority class (which may preempt other work
// cluster-wide) and the Secrets it reads (env secretKeyRef, dataset/output secretRef). The
// operator creates the Job, so without a check anyone who can create a TrainingRun could use
// any of these in the namespace even where RBAC does not let them create pods. Nothing is
// allowed unless the operator's allowlist (chart value trainingRunAllowlist) names it; a run
// naming something else fails at once with the reason NotAllowed, before any Job exists.
import type { TrainingRunSpec } from '../../api/index.js';

export interface TrainingRunAllowlist {
  serviceAccounts?: readonly string[];
  priorityClasses?: readonly string[];
  secrets?: readonly string[];
}

/** The Secrets a run's spec names (pure). */
export function referencedSecrets(spec: TrainingRunSpec): string[] {
  const names = [
    ...(spec.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name),
    spec.dataset?.secretRef?.name,
    spec.output?.secretRef?.name,
  ];
  return [...new Set(names.filter((n): n is string => !!n))];
}

/**
 * Why the run may not start, naming each reference the allowlist lacks and the chart value to
 * change; undefined when everything it names is allowed (pure).
 */
export function refusedReferences(spec: TrainingRunSpec, allow: TrainingRunAllowlist): string | undefined {
  const refused: string[] = [];
  const check = (what: string, name: string | undefined, allowed: readonly string[] | undefined, value: string) => {
    if (name && !(allowed ?? []).includes(name)) refused.push(`${what} "${name}" (trainingRunAllowlist.${value})`);
  };
  check('service account', spec.serviceAccountName, allow.serviceAccounts, 'serviceAccounts');
  check('priority class', spec.priorityClassName, allow.priorityClasses, 'priorityClasses');
  for (const secret of referencedSecrets(spec)) check('Secret', secret, allow.secrets, 'secrets');
  if (refused.length === 0) return undefined;
  return `not allowed by the operator: ${refused.join(', ')}; a cluster admin can allow them in the Helm chart value named, or remove them from the run`;
}
