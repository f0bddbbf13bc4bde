// `node --import tsx hack/bench/replicas.ts <model-dir> <port> <replicas>`: the model server as
// `replicas` one-core pods behind one Service would run it — separate processes, each with the
// libuv pool the operator gives a one-core pod and its own admission budgets and replay memory —
// sharing one port the way a Service's cluster IP is shared: node:cluster's primary accepts each
// connection and hands it to the next process, round-robin, as kube-proxy spreads connections.
// This is what scaling out (the HorizontalPodAutoscaler) gives on these cores, measured without
// a cluster. SIGTERM or SIGINT stops every process.
import cluster from 'node:cluster';
import { servingThreadpoolSize } from '../../operator/controllers/inferenceservice/threadpool.js';

const [dir, port, replicas] = process.argv.slice(2);
if (!dir || !port || !(Number(replicas) >= 1)) {
  console.error('usage: replicas.ts <model-dir> <port> <replicas>');
  process.exit(2);
}

cluster.setupPrimary({
  exec: 'serving/main.ts',
  execArgv: ['--import', 'tsx'],
  args: ['--model-dir', dir, '--port', port, '--host', '127.0.0.1'],
  silent: true,
});
const pool = String(servingThreadpoolSize({ limits: { cpu: 1 } }));
for (let i = 0; i < Number(replicas); i++)
  cluster.fork({ ...process.env, MODELSHIP_FEEDBACK_KEY: 'bench-key-0123456789abcdef', UV_THREADPOOL_SIZE: pool });

cluster.on('exit', (worker, code) => {
  console.error(`replica ${worker.id} exited ${code}`);
  process.exit(1);
});
const stop = () => {
  cluster.removeAllListeners('exit');
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
