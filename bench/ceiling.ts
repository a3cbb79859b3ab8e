/**
 * The hardware ceiling for `list`: a bare node:http server with a pg pool (no framework, no auth,
 * no tenant switch, no validation) running the same data queries as GET /v1/inventory with a
 * page and an optional category (page ids, page rows, counter total, lots). Status filters are
 * sent to it as plain pages. The API's
 * throughput is reported as a share of this.
 * Usage: DATABASE_URL=… BENCH_ORG=… PORT=… node bench/ceiling.ts
 */
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
});
const orgId = process.env.BENCH_ORG!;

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://ceiling');
  const pageNumber = Number(url.searchParams.get('page') ?? 1);
  const limit = Number(url.searchParams.get('limit') ?? 50);
  const category = url.searchParams.get('category');
  const params: unknown[] = [orgId];
  let where = 'org_id = $1 and deleted_at is null';
  let countWhere = 'org_id = $1';
  if (category) {
    params.push(category.toLowerCase());
    where += ` and lower(category) = $${params.length}`;
    countWhere += ` and lower(category) = $${params.length}`;
  }
  const page = `select id from inventory_items where ${where} order by created_at desc, id limit ${limit} offset ${(pageNumber - 1) * limit}`;
  Promise.all([
    pool.query(
      `select * from inventory_items where org_id = $1 and id in (${page}) order by created_at desc, id`,
      params,
    ),
    pool.query(
      `select coalesce(sum(live_count), 0) as count from inventory_item_counts where ${countWhere}`,
      params,
    ),
  ])
    .then(async ([rows, count]) => {
      const ids = rows.rows.map((row: { id: string }) => row.id);
      const lots = ids.length
        ? await pool.query(
            'select * from inventory_lots where org_id = $1 and item_id = any($2) and quantity > 0',
            [orgId, ids],
          )
        : { rows: [] };
      response.writeHead(200, { 'content-type': 'application/json' });
      const total = Number((count.rows[0] as { count: string }).count);
      response.end(JSON.stringify({ data: rows.rows, lots: lots.rows.length, total }));
    })
    .catch((error: Error) => {
      response.writeHead(500);
      response.end(error.message);
    });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ceiling ready\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
