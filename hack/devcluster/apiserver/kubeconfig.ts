// Kubeconfigs for the dev cluster. The default one: the insecure port (plain HTTP on loopback, no credentials).
// `insecure-skip-tls-verify` because @kubernetes/client-node 1.x refuses http:// servers without it.
export function kubeconfigYaml(server: string, name = 'devcluster'): string {
  return kubeconfig(name, [`server: ${server}`, 'insecure-skip-tls-verify: true'], []);
}

/** A kubeconfig for the secure port: the cluster CA inline, a bearer token as the user. */
export function secureKubeconfigYaml(
  server: string,
  caCertPem: string,
  token: string,
  name = 'devcluster-secure',
): string {
  return kubeconfig(
    name,
    [`server: ${server}`, `certificate-authority-data: ${Buffer.from(caCertPem).toString('base64')}`],
    [`token: ${token}`],
  );
}

/** One cluster, user and context of the same name, the context current. */
function kubeconfig(name: string, cluster: string[], user: string[]): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    ...cluster.map((l) => `    ${l}`),
    'users:',
    `- name: ${name}`,
    ...(user.length ? ['  user:', ...user.map((l) => `    ${l}`)] : ['  user: {}']),
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}`,
    '    namespace: default',
    `current-context: ${name}`,
    'preferences: {}',
    '',
  ].join('\n');
}
