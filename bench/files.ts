import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildServer, freePort, memoryOf, startCommand } from './bench.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const MB = 1024 * 1024;

/**
 * A large upload through the real server (`npm start`'s entry, WORKER_MODE=all): one file of
 * `megabytes` MB, generated while it is sent (a PDF header, then filler), posted as multipart to
 * POST /v1/files/upload over a socket. Reported: throughput from first byte sent to the answer,
 * and the server's RSS before and at its peak (Linux /proc), i.e. whether the file sat in memory.
 */
export interface FileUploadFigures {
  megabytes: number;
  seconds: number;
  megabytesPerSecond: number;
  serverRssBeforeMb: number;
  serverPeakRssMb: number;
}

export async function runFileUploadBench(options: {
  megabytes: number;
  databaseUrl?: string | undefined;
  log: (line: string) => void;
}): Promise<FileUploadFigures> {
  buildServer();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-bench-files-'));
  const port = await freePort();
  const { flags, entry } = startCommand();
  const child: ChildProcess = spawn(process.execPath, [...flags, entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      DATA_DIR: dataDir,
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      SEED_DEMO: 'false',
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      JWT_SECRET: 'benchmark-secret-benchmark-secret-benchmark',
      FILE_MAX_BYTES: String((options.megabytes + 10) * MB),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 120_000;
    while (
      !(await fetch(`${base}/health`)
        .then((r) => r.ok)
        .catch(() => false))
    ) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('server did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const registered = await fetch(`${base}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `bench-files-${Date.now()}@example.com`,
        password: 'benchmark password 2026',
        username: 'Bench Files',
        companyName: 'Bench Files Grocer',
        acceptTerms: true,
      }),
    });
    const token = ((await registered.json()) as { data: { accessToken: string } }).data.accessToken;
    const before = memoryOf(child.pid!).rss;
    options.log(`files: uploading ${options.megabytes} MB…`);
    const boundary = `bench${Date.now()}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\ndocument\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="large.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const chunk = Buffer.alloc(MB, 0x20);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(child.pid!).rss)), 50);
    const started = performance.now();
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        `${base}/v1/files/upload`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': head.length + options.megabytes * MB + tail.length,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < options.megabytes) {
          sent++;
          if (!request.write(chunk)) {
            request.once('drain', pump);
            return;
          }
        }
        request.end(tail);
      };
      request.write(head);
      pump();
    });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, memoryOf(child.pid!).rss);
    if (status !== 201) throw new Error(`upload answered ${status}`);
    return {
      megabytes: options.megabytes,
      seconds: Math.round(seconds * 100) / 100,
      megabytesPerSecond: Math.round(options.megabytes / seconds),
      serverRssBeforeMb: before,
      serverPeakRssMb: peak,
    };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const figures = await runFileUploadBench({
    megabytes: Number(process.env.BENCH_FILE_MB ?? 200),
    databaseUrl: process.env.DATABASE_URL,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
