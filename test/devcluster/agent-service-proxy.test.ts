// The dev cluster's kube-proxy stand-in on its own, with in-memory Service and Endpoints: it
// listens on a Service's cluster IP only while the Service has ready endpoints (connects are
// refused otherwise, as kube-proxy's REJECT makes them), and a listener dropped while it was
// still binding does not keep the address.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Informer } from '../../hack/devcluster/agent/informer.js';
import type { KubeObject } from '../../hack/devcluster/agent/kube-client.js';
import { ServiceProxy } from '../../hack/devcluster/agent/service-proxy.js';

/** The part of an Informer the proxy reads, over a plain map. */
function fakeInformer(objects: Map<string, KubeObject>): Informer {
  return {
    onChange: () => {},
    list: () => [...objects.values()],
    get: (ns: string | undefined, name: string) => objects.get(`${ns}/${name}`),
  } as unknown as Informer;
}

function connectResult(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test('a listener dropped before it was bound does not keep the address', async () => {
  const backend = net.createServer((s) => s.end('hello'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const backendPort = (backend.address() as AddressInfo).port;
  const ip = '127.96.251.9';
  const port = 39_417; // unusual: parallel dev clusters share the loopback range
  const services = new Map<string, KubeObject>([
    [
      'ns/web',
      { metadata: { name: 'web', namespace: 'ns' }, spec: { clusterIP: ip, ports: [{ name: 'http', port }] } },
    ],
  ]);
  const endpoints = new Map<string, KubeObject>();
  const ready = {
    metadata: { name: 'web', namespace: 'ns' },
    subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: backendPort }] }],
  };
  const logs: string[] = [];
  const proxy = new ServiceProxy(fakeInformer(services), fakeInformer(endpoints), (m) => logs.push(m));
  const internals = proxy as unknown as { sync(): void; program(): void };
  try {
    internals.sync(); // the Service's listener, not bound: no endpoints yet
    assert.is(await connectResult(ip, port), 'ECONNREFUSED');
    endpoints.set('ns/web', ready);
    internals.program(); // binds (a tick later)...
    endpoints.delete('ns/web');
    internals.program(); // ...but the endpoints are gone before it is bound
    await new Promise((r) => setTimeout(r, 100));
    assert.is(await connectResult(ip, port), 'ECONNREFUSED', 'nothing listens for a Service without endpoints');
    endpoints.set('ns/web', ready);
    internals.program();
    await new Promise((r) => setTimeout(r, 100));
    assert.is(await connectResult(ip, port), 'connected');
    assert.equal(logs, [], 'no address in use');
  } finally {
    await proxy.stop();
    await new Promise((r) => backend.close(r));
  }
});

test.run();
