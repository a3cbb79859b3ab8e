/**
 * The hardware ceiling for `list`: a bare node:http server with a pg pool (no framework, no auth,
 * no validation, no mapping) sending the same statement GET /v1/inventory sends for a page with an
 * optional category or status filter (inventory.repository.ts listSelection/listPage), written out
 * by hand. The API's throughput is reported as a share of this. Pages from offset 10,000 on use
 * the API's two-way statement (FROM_END_MIN_OFFSET); the benchmark reads the first 200 pages, so
 * only the plain one is mirrored here.
 * Usage: DATABASE_URL=… BENCH_ORG=… PORT=… node bench/ceiling.ts
 */
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_MAX ?? 10),
});
const orgId = process.env.BENCH_ORG!;
// The store's default settings: expiring = earliest expiry within 3 days of today (UTC).
const expiringBy = () => new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
const today = () => new Date().toISOString().slice(0, 10);

// $1 store, $2 limit, $3 offset, $4 the expiring-by date, $5 today, $6 the category.
const base = `select id from inventory_items where org_id = $1 and deleted_at is null`;
const page = (where: string) => `array(${base}${where} order by created_at desc, id limit $2 offset $3)`;
// Items as API JSON text, with the store's default low-stock threshold (10), as the API sends them.
const items = (where: string) =>
  `tenant_api_items($1::uuid, ${page(where)}, 10::numeric, $4::date, $5::date)::text as items`;
const counters = `(select coalesce(sum(live_count), 0)::int from inventory_item_counts where org_id = $1`;
const countWhere = (where: string) =>
  `(select count(*)::int from inventory_items where org_id = $1 and deleted_at is null${where})`;

const STATUS_WHERE: Record<string, string> = {
  out_of_stock: ' and stock_level = 0',
  low_stock: ' and stock_level = 1',
  expiring: ' and (stock_level = 2 and earliest_expiry <= $4)',
  in_stock: ' and (stock_level = 2 and (earliest_expiry is null or earliest_expiry > $4))',
};

function statement(category: string | null, status: string | null): { text: string; extra: unknown[] } {
  if (category) {
    const where = ' and category_key = lower($6)';
    return {
      text: `select ${counters} and lower(category) = lower($6)) as total, ${items(where)}`,
      extra: [category],
    };
  }
  const where = status ? STATUS_WHERE[status] : undefined;
  if (!status || !where) return { text: `select ${counters}) as total, ${items('')}`, extra: [] };
  if (status === 'in_stock') {
    const total = `${counters}) - ${countWhere(' and stock_level < 2')} - ${countWhere(STATUS_WHERE.expiring!)}`;
    return { text: `select (${total}) as total, ${items(where)}`, extra: [] };
  }
  return { text: `select ${countWhere(where)} as total, ${items(where)}`, extra: [] };
}

// Named (prepared) statements, as the API's pool sends them (src/platform/db/database.ts): the
// ceiling must not pay a parse and plan per request that the API no longer pays.
const names = new Map<string, string>();
const nameOf = (text: string) => {
  if (!names.has(text)) names.set(text, `ceiling_${names.size + 1}`);
  return names.get(text)!;
};

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://ceiling');
  const pageNumber = Number(url.searchParams.get('page') ?? 1);
  const limit = Number(url.searchParams.get('limit') ?? 50);
  const { text, extra } = statement(url.searchParams.get('category'), url.searchParams.get('status'));
  pool
    .query<{ total: number; items: string }>({
      name: nameOf(text),
      text,
      values: [orgId, limit, (pageNumber - 1) * limit, expiringBy(), today(), ...extra],
    })
    .then(({ rows }) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"data":${rows[0]!.items},"total":${rows[0]!.total}}`);
    })
    .catch((error: Error) => {
      response.writeHead(500);
      response.end(error.message);
    });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ceiling ready\n'));
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
