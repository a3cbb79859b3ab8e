import { copyFileSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers/files.ts';
import { build } from './build.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** A project with the real compiler settings and two modules (and a test that is never built). */
async function project() {
  const root = await tempDir();
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package.json'])
    copyFileSync(path.join(ROOT, file), path.join(root, file));
  mkdirSync(path.join(root, 'src', 'lib'), { recursive: true });
  writeFileSync(path.join(root, 'src', 'lib', 'a.ts'), 'export const a: number = 1;\n');
  writeFileSync(
    path.join(root, 'src', 'main.ts'),
    "import type { Server } from 'node:http';\nimport { a } from './lib/a.ts';\nexport const b = (s?: Server) => a + (s ? 1 : 0);\n",
  );
  writeFileSync(path.join(root, 'src', 'main.test.ts'), 'export {};\n');
  return root;
}

const later = (file: string) => {
  const future = new Date(Date.now() + 60_000);
  utimesSync(file, future, future);
};

describe('build', () => {
  it('compiles what is missing or changed, nothing else, and removes outputs whose source is gone', async () => {
    const root = await project();
    const dist = (file: string) => path.join(root, 'dist', file);
    const names = (files: string[]) => files.map((file) => path.relative(root, file)).sort();

    expect(names((await build(root)).compiled)).toEqual(['src/lib/a.ts', 'src/main.ts']);
    // Types gone, the relative import rewritten to the compiled file, tests not built.
    expect(readFileSync(dist('main.js'), 'utf8')).toMatch(/import \{ a \} from ["']\.\/lib\/a\.js["'];/);
    expect(readFileSync(dist('main.js'), 'utf8')).not.toContain('Server');
    expect(readFileSync(dist('lib/a.js'), 'utf8')).toContain('export const a = 1;');
    expect(() => readFileSync(dist('main.test.js'))).toThrow();

    expect((await build(root)).compiled).toEqual([]);

    writeFileSync(path.join(root, 'src', 'lib', 'a.ts'), 'export const a: number = 2;\n');
    later(path.join(root, 'src', 'lib', 'a.ts'));
    expect(names((await build(root)).compiled)).toEqual(['src/lib/a.ts']);
    expect(readFileSync(dist('lib/a.js'), 'utf8')).toContain('export const a = 2;');

    rmSync(path.join(root, 'src', 'main.ts'));
    expect(names((await build(root)).removed)).toEqual(['dist/main.js']);

    later(path.join(root, 'tsconfig.build.json'));
    expect(names((await build(root)).compiled)).toEqual(['src/lib/a.ts']);
  });
});
