// How an application that owns the labels gets its feedback credential: the InferenceService's
// status names the Secret, each of whose keys is an accepted bearer token. The same as
//   kubectl get secret "$(kubectl get msvc NAME -o jsonpath='{.status.feedbackCredentialSecret}')" \
//     -o jsonpath='{.data.c1}' | base64 -d
import { Kinds, type KindRef, type KubeObject } from '../../operator/runtime/kinds.js';

interface Reader {
  get<T extends KubeObject>(kind: KindRef, namespace: string | undefined, name: string): Promise<T>;
}

export async function readFeedbackCredential(client: Reader, namespace: string, service: string): Promise<string> {
  const isvc = await client.get<KubeObject & { status?: { feedbackCredentialSecret?: string } }>(
    Kinds.InferenceService,
    namespace,
    service,
  );
  const name = isvc.status?.feedbackCredentialSecret;
  if (!name) throw new Error(`InferenceService ${namespace}/${service} names no feedback credential Secret yet`);
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>(Kinds.Secret, namespace, name);
  const first = Object.keys(secret.data ?? {}).sort()[0];
  if (!first) throw new Error(`Secret ${namespace}/${name} holds no credential`);
  return Buffer.from(secret.data![first], 'base64').toString('utf8');
}
