import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildServer, memoryOf } from './bench.ts';
import { settledRss, start } from './embedded.ts';

/**
 * `node bench/first-start.ts [other-checkout]`: the embedded default's first start alone, measured
 * as bench/embedded.ts measures it (the server as `npm start` runs it, on an empty data directory,
 * from spawn to a healthy /health, the demo store seeded), then a restart on what it left and the
 * restarted server's settled RSS (and the first server's, which goes on serving with what seeding
 * left it). BENCH_FIRST_START_ROUNDS (5) rounds; medians.
 *
 * Beside the wall time it reports the server's CPU time up to healthy, which holds better than
 * the wall time when other processes share the cores. Given the path of another checkout (built
 * with its own `npm run build`, for example `git archive main` unpacked with this node_modules
 * linked in), the two servers take turns in every round and the report adds this checkout's
 * figures over the other's, round by round: a before/after comparison on one machine state.
 */
interface Figures {
  firstStartSeconds: number;
  firstStartCpuSeconds: number;
  firstStartPeakRssMb: number;
  /** RSS of the first-start process once settled: it goes on serving, with what seeding left it. */
  firstStartIdleRssMb: number;
  restartSeconds: number;
  idleRssMb: number;
}

async function round(root: string | undefined): Promise<Figures> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fresh-choice-bench-first-start-'));
  try {
    const first = await start(dataDir, undefined, true, root);
    const firstStartPeakRssMb = memoryOf(first.child.pid!).peak;
    const firstStartIdleRssMb = await settledRss(first.child.pid!);
    await first.stop();
    const again = await start(dataDir, undefined, true, root);
    const idleRssMb = await settledRss(again.child.pid!);
    await again.stop();
    return {
      firstStartSeconds: first.seconds,
      firstStartCpuSeconds: first.cpuSeconds,
      firstStartPeakRssMb,
      firstStartIdleRssMb,
      restartSeconds: again.seconds,
      idleRssMb,
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fixed = (value: number, digits = 2) => Number(value.toFixed(digits));

function summary(label: string, rounds: Figures[]) {
  const of = (key: keyof Figures) => rounds.map((figures) => figures[key]);
  return {
    label,
    firstStartSeconds: fixed(median(of('firstStartSeconds'))),
    firstStartCpuSeconds: fixed(median(of('firstStartCpuSeconds'))),
    firstStartPeakRssMb: median(of('firstStartPeakRssMb')),
    firstStartIdleRssMb: median(of('firstStartIdleRssMb')),
    restartSeconds: fixed(median(of('restartSeconds'))),
    idleRssMb: median(of('idleRssMb')),
    rounds: rounds.map((figures) => ({
      firstStartSeconds: fixed(figures.firstStartSeconds),
      firstStartCpuSeconds: fixed(figures.firstStartCpuSeconds),
      firstStartIdleRssMb: figures.firstStartIdleRssMb,
      restartSeconds: fixed(figures.restartSeconds),
      idleRssMb: figures.idleRssMb,
    })),
  };
}

const other = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
const rounds = Number(process.env.BENCH_FIRST_START_ROUNDS ?? 5);
buildServer();
if (other) execFileSync(process.execPath, ['scripts/build.ts'], { cwd: other, stdio: 'inherit' });
const mine: Figures[] = [];
const theirs: Figures[] = [];
for (let index = 0; index < rounds; index++) {
  // Alternate which goes first, so neither always meets the machine after the other.
  const order = other && index % 2 === 1 ? ['other', 'this'] : ['this', 'other'];
  for (const which of order) {
    if (which === 'this') mine.push(await round(undefined));
    else if (other) theirs.push(await round(other));
    process.stderr.write(`first-start: round ${index + 1}, ${which} done\n`);
  }
}
const report: Record<string, unknown> = { rounds, this: summary('this checkout', mine) };
if (other) {
  report.other = summary(other, theirs);
  const ratios = (key: keyof Figures) =>
    mine.map((figures, index) => fixed(figures[key] / theirs[index]![key], 3));
  report.thisOverOther = {
    firstStartSeconds: { median: median(ratios('firstStartSeconds')), rounds: ratios('firstStartSeconds') },
    firstStartCpuSeconds: {
      median: median(ratios('firstStartCpuSeconds')),
      rounds: ratios('firstStartCpuSeconds'),
    },
  };
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
