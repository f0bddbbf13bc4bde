// The serving image's entry point: `serve` (default), `validate` (alias `profile`), `router`,
// and the object-storage steps `fetch` and `upload` (init containers).
//   npm run serve -- --model-dir DIR [--port N] [--name NAME] [--expect-digest sha256:HEX]
//   npm run serve -- validate --model-dir DIR [--report FILE] [--expect-digest sha256:HEX]
//   npm run serve -- router --config FILE [--port N]
//   npm run serve -- fetch --from s3://bucket/prefix|https://host/path/ --to DIR [--expect-digest sha256:HEX]
//   npm run serve -- upload --from DIR --to s3://bucket/prefix
// Each mode loads only its own modules: the router's Kubernetes client alone added ~55 MB of
// heap to every model server (and made every major GC of the server mark it).
import { UsageError } from './lib/cli/args.js';

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  const mode = first && !first.startsWith('-') ? first : 'serve';
  const args = mode === first ? rest : argv;
  switch (mode) {
    case 'serve': {
      const [{ runServe }, { WEB_PAGE }] = await Promise.all([import('./lib/cli/serve.js'), import('./web/index.js')]);
      await runServe(args, { webPage: WEB_PAGE });
      return;
    }
    case 'validate':
    case 'profile': {
      const { runValidate } = await import('./lib/cli/validate.js');
      process.exitCode = await runValidate(args);
      return;
    }
    case 'router': {
      const { runRouter } = await import('./router/index.js');
      await runRouter(args);
      return;
    }
    case 'fetch':
    case 'upload': {
      const { runFetch, runUpload } = await import('./lib/cli/storage-steps.js');
      process.exitCode = await (mode === 'fetch' ? runFetch : runUpload)(args);
      return;
    }
    default:
      throw new UsageError(`unknown mode "${mode}" (modes: serve, validate, profile, router, fetch, upload)`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // a typed step failure (DigestMismatch) names its reason, as in the termination message
  const reason = (err as { reason?: string } | undefined)?.reason;
  process.stderr.write(`serve: ${reason ? `${reason}: ` : ''}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
