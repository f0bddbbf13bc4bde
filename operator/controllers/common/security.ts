// Container security contexts of every pod the operator creates (pure), at the Pod Security
// Standards "restricted" level, so that its workloads run in namespaces that enforce it.

/**
 * The container fields "restricted" asks for, as Job containers get them. The root filesystem
 * stays writable: a trainer is the user's own image and may write anywhere in it (caches, /tmp).
 */
export const RESTRICTED_JOB_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** Serving and router containers: restricted, with a read-only root (they write only to their mounts). */
export const RESTRICTED_CONTAINER_SECURITY = {
  ...RESTRICTED_JOB_CONTAINER_SECURITY,
  readOnlyRootFilesystem: true,
} as const;
