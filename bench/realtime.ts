import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createDatabase } from '../src/platform/db/database.ts';
import { freePort } from './bench.ts';

/**
 * Realtime delivery on PostgreSQL: BENCH_REALTIME_CLIENTS (1,000) WebSocket clients in this
 * process subscribe to `inventory:changes` of one store while BENCH_REALTIME_ADJUSTMENTS (500)
 * stock adjustments run through the HTTP API (four at a time, over eight items). Measured: the
 * time from an adjustment's response (its commit has happened by then) to each client's receipt
 * of its event (p50/p95/p99 over every client and event; an event that arrives before the
 * response counts as 0), the server's RSS per connection, and whether every client got every
 * event exactly once (counted). Budget: p99 ≤ 100 ms.
 */
export interface RealtimeFigures {
  clients: number;
  adjustments: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  rssPerConnectionKb: number;
  serverRssMb: number;
  expectedDeliveries: number;
  delivered: number;
  duplicates: number;
  missing: number;
}

const ROOT = path.join(import.meta.dirname, '..');
const CONCURRENCY = 4;
const ITEMS = 8;

export async function runRealtimeBench(options: {
  databaseUrl: string;
  clients: number;
  adjustments: number;
  log: (line: string) => void;
}): Promise<RealtimeFigures> {
  const admin = await createDatabase({ url: options.databaseUrl, poolMax: 1 });
  const name = `fresh_choice_bench_realtime_${Date.now()}`;
  await admin.withSession((session) => session.exec(`create database "${name}"`));
  const url = new URL(options.databaseUrl);
  url.pathname = `/${name}`;
  const port = await freePort();
  const dataDir = path.join(os.tmpdir(), `fresh-choice-bench-realtime-${process.pid}`);
  const server = spawn(process.execPath, ['--max-semi-space-size=16', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url.toString(),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
      RATE_LIMIT_ENABLED: 'false',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
      JWT_SECRET: 'benchmark-secret-benchmark-secret-benchmark',
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sockets: WebSocket[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Fresh Choice API ready')) {
          server.stdout.off('data', onData);
          server.stdout.resume();
          server.stderr.resume();
          resolve();
        }
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      server.once('exit', () => reject(new Error(`server did not start:\n${output}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const post = async (route: string, body: unknown, token?: string) => {
      const response = await fetch(`${base}${route}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${route}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { data: Record<string, unknown> }).data;
    };
    const session = await post('/v1/auth/register', {
      email: `bench-${Date.now()}@example.com`,
      username: 'bench admin',
      password: 'correct horse battery staple',
      companyName: 'Realtime bench',
      acceptTerms: true,
    });
    const token = session.accessToken as string;
    const items: string[] = [];
    for (let i = 0; i < ITEMS; i++) {
      const item = await post(
        '/v1/inventory',
        {
          description: `Bench item ${i}`,
          category: 'Produce',
          remainingStock: 1_000_000,
          qtyShipped: 1_000_000,
        },
        token,
      );
      items.push(item.id as string);
    }
    // Warm the server's paths before measuring its memory.
    await post(`/v1/inventory/${items[0]}/adjust-stock`, { adjustment: -1, reason: 'sold' }, token);
    const before = rssKb(server.pid!);

    options.log(`realtime: ${options.clients} clients connecting…`);
    /** Per client: event key → arrival time; ids seen. */
    const arrivals = Array.from({ length: options.clients }, () => new Map<string, number>());
    const idsSeen = Array.from({ length: options.clients }, () => new Set<number>());
    let duplicates = 0;
    const connectOne = (index: number) =>
      new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['access_token', token]);
        sockets.push(socket);
        socket.on('error', reject);
        socket.on('message', (data: Buffer) => {
          const message = JSON.parse(data.toString()) as {
            type: string;
            id?: number;
            payload: { itemId?: string; newStock?: number };
          };
          if (message.type === 'subscribed') return resolve();
          if (message.type === 'auth:ok') {
            socket.send(JSON.stringify({ type: 'subscribe', payload: { channels: ['inventory:changes'] } }));
            return;
          }
          if (message.type !== 'inventory:stock_updated') return;
          const now = performance.now();
          if (idsSeen[index]!.has(message.id!)) duplicates++;
          idsSeen[index]!.add(message.id!);
          arrivals[index]!.set(`${message.payload.itemId}:${message.payload.newStock}`, now);
        });
      });
    for (let i = 0; i < options.clients; i += 100)
      await Promise.all(
        Array.from({ length: Math.min(100, options.clients - i) }, (_, k) => connectOne(i + k)),
      );
    const after = rssKb(server.pid!);

    options.log(`realtime: ${options.adjustments} adjustments, ${CONCURRENCY} at a time…`);
    const committed = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < options.adjustments) {
          const itemId = items[next++ % ITEMS]!;
          const result = await post(
            `/v1/inventory/${itemId}/adjust-stock`,
            { adjustment: -1, reason: 'sold' },
            token,
          );
          const { stockAfter } = result.movement as { stockAfter: number };
          committed.set(`${itemId}:${stockAfter}`, performance.now());
        }
      }),
    );
    const expected = options.clients * options.adjustments;
    const deadline = Date.now() + 30_000;
    const received = () => arrivals.reduce((sum, map) => sum + map.size, 0);
    while (received() < expected && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));

    const latencies: number[] = [];
    let delivered = 0;
    for (const map of arrivals)
      for (const [key, at] of map) {
        const sent = committed.get(key);
        if (sent === undefined) continue;
        delivered++;
        latencies.push(Math.max(0, at - sent));
      }
    latencies.sort((a, b) => a - b);
    const percentile = (p: number) =>
      latencies.length
        ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!
        : 0;
    return {
      clients: options.clients,
      adjustments: options.adjustments,
      p50Ms: round1(percentile(50)),
      p95Ms: round1(percentile(95)),
      p99Ms: round1(percentile(99)),
      rssPerConnectionKb: Math.round((after - before) / options.clients),
      serverRssMb: Math.round(after / 1024),
      expectedDeliveries: expected,
      delivered,
      duplicates,
      missing: expected - delivered,
    };
  } finally {
    for (const socket of sockets) socket.terminate();
    if (server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await admin.withSession((session) => session.exec(`drop database if exists "${name}" with (force)`));
    await admin.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Resident memory of a process in kB (Linux /proc). */
function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

const round1 = (value: number) => Math.round(value * 10) / 10;
