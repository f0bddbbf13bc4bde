// The serving image's entry point: `serve` (default), `validate` (alias `profile`), `router`.
//   npm run serve -- --model-dir DIR [--port N] [--name NAME]
//   npm run serve -- validate --model-dir DIR [--report FILE]
//   npm run serve -- router --config FILE [--port N]
import { UsageError } from './lib/args.js';
import { runServe } from './lib/serve-cmd.js';
import { runValidate } from './lib/validate-cmd.js';
import { runRouter } from './router/index.js';
import { indexHtml } from './web/index.js';

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  const mode = first && !first.startsWith('-') ? first : 'serve';
  const args = mode === first ? rest : argv;
  switch (mode) {
    case 'serve':
      await runServe(args, { renderIndex: indexHtml });
      return;
    case 'validate':
    case 'profile':
      process.exitCode = await runValidate(args);
      return;
    case 'router':
      await runRouter(args);
      return;
    default:
      throw new UsageError(`unknown mode "${mode}" (modes: serve, validate, profile, router)`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
