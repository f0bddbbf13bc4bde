// Kubeconfigs for the dev cluster. The default one: the insecure port (plain HTTP on loopback, no credentials).
// `insecure-skip-tls-verify` because @kubernetes/client-node 1.x refuses http:// servers without it.
export function kubeconfigYaml(server: string, name = 'devcluster'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${name}`,
    '  user: {}',
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

/** A kubeconfig for the secure port: the cluster CA inline, a bearer token as the user. */
export function secureKubeconfigYaml(server: string, caCertPem: string, token: string, name = 'devcluster-secure'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(caCertPem).toString('base64')}`,
    'users:',
    `- name: ${name}`,
    '  user:',
    `    token: ${token}`,
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
