/**
 * `npm run build` (and so `npm start`): compiles `src/` to `dist/`, only the files that changed.
 *
 * The server runs compiled JavaScript: running the TypeScript directly keeps Node's
 * type-stripping compiler in memory (ARCHITECTURE.md). Compiling used to be `tsc`, which also
 * type-checks the whole project: 5-12 s before every start, changed or not. Type checking is
 * `npm run typecheck`'s job (and CI's); this script only turns each source file whose output is
 * missing or older than it into JavaScript, with TypeScript's transpileModule and the compiler
 * options of tsconfig.build.json, so the output is what tsc writes (the project compiles file by
 * file: isolatedModules; checked byte for byte against tsc's dist/ when this was written).
 * Nothing changed: about 0.1 s, and TypeScript is not loaded. Every file is compiled again when a
 * tsconfig or package.json is newer than its output; outputs whose source is gone are removed.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface BuildResult {
  compiled: string[];
  removed: string[];
}

const isSource = (file: string) =>
  file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts');
const mtime = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

function filesUnder(dir: string): string[] {
  if (!statSync(dir, { throwIfNoEntry: false })) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Compiles `root/src` into `root/dist`: the files whose output is missing or older. */
export async function build(root: string): Promise<BuildResult> {
  const source = path.join(root, 'src');
  const out = path.join(root, 'dist');
  const outputOf = (file: string) => path.join(out, path.relative(source, file)).replace(/\.ts$/, '.js');
  const sources = filesUnder(source).filter(isSource);
  const configChanged = Math.max(
    ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map(
      (file) => mtime(path.join(root, file)) ?? 0,
    ),
  );
  const stale = sources.filter((file) => {
    const built = mtime(outputOf(file));
    return built === undefined || built < mtime(file)! || built < configChanged;
  });

  const expected = new Set(sources.map(outputOf));
  const removed = filesUnder(out).filter((file) => !expected.has(file));
  for (const file of removed) rmSync(file);

  if (stale.length > 0) {
    const { default: ts } = await import('typescript');
    const configPath = path.join(root, 'tsconfig.build.json');
    const { config } = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file)) as { config: unknown };
    const { options, errors } = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configPath);
    if (errors.length > 0) throw new Error(ts.formatDiagnostics(errors, ts.createCompilerHost(options)));
    await Promise.all(
      stale.map(async (file) => {
        const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
          fileName: file,
          // Every source is an ES module ("type": "module"); transpileModule does not read package.json.
          compilerOptions: { ...options, module: ts.ModuleKind.ESNext },
        });
        const output = outputOf(file);
        mkdirSync(path.dirname(output), { recursive: true });
        writeFileSync(output, outputText);
      }),
    );
  }
  return { compiled: stale, removed };
}

if (import.meta.main) {
  const started = performance.now();
  const { compiled } = await build(path.resolve(import.meta.dirname, '..'));
  if (compiled.length > 0) {
    process.stderr.write(
      `build: compiled ${compiled.length} files in ${Math.round(performance.now() - started)} ms\n`,
    );
  }
}
