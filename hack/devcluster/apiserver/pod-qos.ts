// A Pod's QoS class (pkg/apis/core/helper/qos): set by the API server on create and kept by the
// node agent's status writes, so both must compute it the same way.

interface ContainerResources {
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

/** Guaranteed: every container limits cpu and memory with equal requests; BestEffort: none asks for anything. */
export function podQosClass(
  spec: { containers?: ContainerResources[] } | undefined,
): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = spec?.containers ?? [];
  const asks = (c: ContainerResources) =>
    Object.keys(c.resources?.requests ?? {}).length > 0 || Object.keys(c.resources?.limits ?? {}).length > 0;
  if (!containers.some(asks)) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? l;
    return (
      Boolean(l.cpu && l.memory) &&
      String(r.cpu ?? l.cpu) === String(l.cpu) &&
      String(r.memory ?? l.memory) === String(l.memory)
    );
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
