import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm run openapi:lint`: writes the OpenAPI document (src/cli/openapi.ts) to a temporary file and
 * lints it with Redocly (redocly.yaml: recommended rules, warnings fail) and Spectral
 * (.spectral.yaml: its OpenAPI rules and the OWASP API Security ruleset, warnings fail). Both
 * rule sets are local files and packages: nothing is fetched and nothing is reported anywhere.
 */
const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
// Tools that phone home are told not to; the rulesets are already local.
const env = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  DO_NOT_TRACK: '1',
  SCARF_ANALYTICS: 'false',
};

/** Runs a tool's script on this Node (24, the project's), whatever Node is first on PATH. */
function run(command: string, args: string[]): number {
  console.log(`\n$ ${args.map((arg) => (arg.startsWith(root) ? path.relative(root, arg) : arg)).join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-openapi-lint-'));
try {
  const document = path.join(dir, 'openapi.json');
  if (run(process.execPath, [path.join(root, 'src/cli/openapi.ts'), document]) !== 0) {
    throw new Error('could not write the OpenAPI document');
  }
  const failures = [
    run(process.execPath, [bin('redocly'), 'lint', '--config', path.join(root, 'redocly.yaml'), document]) &&
      'Redocly',
    run(process.execPath, [
      bin('spectral'),
      'lint',
      '--ruleset',
      path.join(root, '.spectral.yaml'),
      '--fail-severity',
      'warn',
      document,
    ]) && 'Spectral',
  ].filter(Boolean);
  if (failures.length) {
    console.error(`\nOpenAPI lint failed: ${failures.join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nOpenAPI lint: Redocly and Spectral (OWASP) found nothing.');
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
