import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm run client:check`: what a client author does with the OpenAPI document. It writes the
 * document (src/cli/openapi.ts), generates TypeScript types from it with openapi-typescript into
 * test/client/generated/, and type-checks the typed client in test/client/ against them. A
 * document that makes defaulted parameters required, drops a route or loses its types fails here.
 */
const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const generatedDir = path.join(root, 'test', 'client', 'generated');

/** Runs a tool's script on this Node (24, the project's), whatever Node is first on PATH. */
function run(args: string[]): void {
  console.log(`\n$ ${args.map((arg) => (arg.startsWith(root) ? path.relative(root, arg) : arg)).join(' ')}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${path.basename(args[0]!)} failed (exit ${result.status})`);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-client-check-'));
try {
  const document = path.join(dir, 'openapi.json');
  run([path.join(root, 'src/cli/openapi.ts'), document]);
  await rm(generatedDir, { recursive: true, force: true });
  await mkdir(generatedDir, { recursive: true });
  // With the repository's redocly.yaml: generation also stops on any lint error.
  run([
    bin('openapi-typescript'),
    document,
    '--redocly',
    path.join(root, 'redocly.yaml'),
    '--output',
    path.join(generatedDir, 'api.ts'),
  ]);
  run([bin('tsc'), '-p', path.join(root, 'test', 'client', 'tsconfig.json')]);
  console.log('\nclient:check: the typed client compiles against the generated types.');
} catch (error) {
  console.error(`\nclient:check failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
