// A kubeconfig for the dev cluster: plain HTTP on loopback, no credentials.
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
