// The node agent on its own, against any API server reachable through a kubeconfig:
//   node --import tsx hack/devcluster/agent/main.ts --kubeconfig <path> --dir <dataDir>
// Stops every pod process on SIGTERM/SIGINT. (npm run devcluster starts it in-process.)
import { resolve } from 'node:path';
import { startNodeAgent } from './index.js';

function parseArgs(argv: string[]): { kubeconfig: string; dir: string } {
  let kubeconfig = process.env.KUBECONFIG ?? '';
  let dir = '';
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    if (argv[i] === '--kubeconfig') kubeconfig = value();
    else if (argv[i] === '--dir') dir = value();
    else throw new Error(`unknown argument ${argv[i]} (usage: --kubeconfig <path> --dir <dataDir>)`);
  }
  if (!kubeconfig || !dir) throw new Error('usage: --kubeconfig <path> --dir <dataDir>');
  return { kubeconfig: resolve(kubeconfig), dir: resolve(dir) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const agent = await startNodeAgent({ kubeconfigPath: args.kubeconfig, dataDir: args.dir });
  console.log(`node agent: running pods under ${args.dir}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    agent.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`node agent: ${(err as Error).message}`);
  process.exit(1);
});
