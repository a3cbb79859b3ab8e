import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { bearer, login } from '../../../test/helpers/auth.ts';
import { sql } from 'kysely';
import { Scheduler } from '../jobs/scheduler.ts';
import { addDays, todayIn } from '../inventory/inventory.service.ts';
import { DEMO_INVOICE_VENDOR, DEMO_PRICE_RISE, queueDemoInvoices } from './demo.invoices.ts';
import {
  DEMO_ORG_ID,
  DEMO_PASSWORD,
  DEMO_TIME_ZONE,
  DEMO_USERS,
  queueDemoForecasts,
  seedDemo,
} from './demo.seed.ts';

describe('demo seed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('creates the demo store with one member per role, and is idempotent', async () => {
    const first = await seedDemo(t.testDatabase.database);
    const second = await seedDemo(t.testDatabase.database);
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    for (const user of DEMO_USERS) {
      const response = await login(t.app, user.email, DEMO_PASSWORD);
      expect(response.statusCode, user.email).toBe(200);
      expect(response.json().data.user.role).toBe(user.role);
    }
    const admin = (await login(t.app, DEMO_USERS[0]!.email, DEMO_PASSWORD)).json().data;
    const settings = await t.app.inject({ method: 'GET', url: '/v1/settings', headers: bearer(admin) });
    expect(settings.json().data).toMatchObject({ currency: 'EUR', timeZone: 'Europe/Rome' });
    const members = await t.app.inject({ method: 'GET', url: '/v1/users', headers: bearer(admin) });
    expect(members.json().meta.pagination.total).toBe(DEMO_USERS.length);
  });

  it('stocks a few hundred items in every fresh and ambient category, with lots and six months of ledger', async () => {
    const { db } = t.testDatabase.database;
    const admin = (await login(t.app, DEMO_USERS[0]!.email, DEMO_PASSWORD)).json().data;
    const list = await t.app.inject({ method: 'GET', url: '/v1/inventory?limit=1', headers: bearer(admin) });
    expect(list.json().meta.pagination.total).toBeGreaterThanOrEqual(200);

    const categories = await db
      .selectFrom('inventory_items')
      .select('category')
      .distinct()
      .where('org_id', '=', DEMO_ORG_ID)
      .execute();
    expect(categories.map((row) => row.category).sort()).toEqual([
      'Bakery',
      'Dairy',
      'Dry goods',
      'Frozen',
      'Meat',
      'Produce',
    ]);

    const span = await db
      .selectFrom('stock_movements')
      .select((eb) => [
        eb.fn.min('occurred_at').as('first'),
        eb.fn.max('occurred_at').as('last'),
        eb.fn.countAll<number>().as('count'),
      ])
      .where('org_id', '=', DEMO_ORG_ID)
      .where('type', '=', 'sale')
      .executeTakeFirstOrThrow();
    const days = (new Date(span.last).getTime() - new Date(span.first).getTime()) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(180);
    expect(Number(span.count)).toBeGreaterThan(30_000);

    // The ledger and the lots agree with every item's stock.
    const mismatches = await sql<{ id: string }>`
      select i.id from inventory_items i
       where i.org_id = ${DEMO_ORG_ID}
         and (i.remaining_stock <> (select coalesce(sum(quantity), 0) from stock_movements m where m.item_id = i.id)
           or i.remaining_stock <> (select coalesce(sum(quantity), 0) from inventory_lots l where l.item_id = i.id))`.execute(
      db,
    );
    expect(mismatches.rows).toEqual([]);
    const expiring = await db
      .selectFrom('inventory_lots')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('org_id', '=', DEMO_ORG_ID)
      .where('quantity', '>', '0')
      .where('expiration_date', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(expiring.count)).toBeGreaterThan(200);

    const analytics = (
      await t.app.inject({ method: 'GET', url: '/v1/inventory/analytics', headers: bearer(admin) })
    ).json().data;
    expect(analytics.topMovingItems.length).toBe(10);
    expect(analytics.totalValue).toBeGreaterThan(0);
    // Everything sells daily up to yesterday: slow movers are the ones that sold least, none of
    // them a top mover, each last sold a day or more ago (this store listed ten "0 days" once).
    const slow: Array<{ id: string; unitsSold: number; daysSinceLastSale: number; neverSold: boolean }> =
      analytics.slowMovingItems;
    expect(slow).toHaveLength(10);
    const unitsSold = slow.map((item) => item.unitsSold);
    expect(unitsSold).toEqual([...unitsSold].sort((a, b) => a - b));
    expect(unitsSold.at(-1)).toBeLessThan(analytics.topMovingItems.at(-1).unitsSold);
    const top = new Set(analytics.topMovingItems.map((item: { id: string }) => item.id));
    expect(slow.filter((item) => top.has(item.id))).toEqual([]);
    for (const item of slow) {
      expect(item.neverSold).toBe(false);
      expect(item.daysSinceLastSale).toBeGreaterThanOrEqual(1);
    }
  });

  it('has a catalogue line per item and the purchase orders and receipts behind every ledger receipt', async () => {
    const { db } = t.testDatabase.database;
    const count = async (query: ReturnType<typeof sql<{ count: string }>>) =>
      Number((await query.execute(db)).rows[0]!.count);
    // Every item is in its vendor's catalogue, as that vendor's preferred line.
    expect(
      await count(sql`select count(*) from inventory_items i
        where i.org_id = ${DEMO_ORG_ID} and not exists (
          select 1 from vendor_products p where p.item_id = i.id and p.vendor_id = i.vendor_id and p.preferred)`),
    ).toBe(0);
    // Every ledger receipt is exactly one receipt line: same item, quantity, lot and day, on a
    // receipt of the item's vendor against a purchase order line for the item.
    const receipts = await count(
      sql`select count(*) from stock_movements where org_id = ${DEMO_ORG_ID} and type = 'receipt'`,
    );
    expect(receipts).toBeGreaterThan(1000);
    const agreeing = await count(sql`
      select count(*) from stock_movements m
        join receipt_lines rl on rl.movement_id = m.id
        join receipts r on r.id = rl.receipt_id
        join purchase_order_lines pl on pl.id = rl.purchase_order_line_id
        join purchase_orders po on po.id = pl.purchase_order_id and po.id = r.purchase_order_id
        join inventory_items i on i.id = m.item_id
       where m.org_id = ${DEMO_ORG_ID} and m.type = 'receipt'
         and rl.item_id = m.item_id and pl.item_id = m.item_id
         and rl.quantity_received = m.quantity
         and m.lots = jsonb_build_array(jsonb_build_object('lotId', rl.lot_id, 'quantity', m.quantity))
         and r.received_date = (m.occurred_at at time zone 'UTC')::date
         and po.vendor_id = i.vendor_id and r.vendor_id = i.vendor_id`);
    expect(agreeing).toBe(receipts);
    expect(await count(sql`select count(*) from receipt_lines where org_id = ${DEMO_ORG_ID}`)).toBe(receipts);
    // Each order line's received and refused units are its receipt lines' sums, and what was
    // ordered is what came plus what was refused.
    expect(
      await count(sql`select count(*) from purchase_order_lines pl
        where pl.org_id = ${DEMO_ORG_ID} and (
          pl.received_units <> (select sum(quantity_received) from receipt_lines where purchase_order_line_id = pl.id)
          or pl.rejected_units <> (select sum(quantity_rejected) from receipt_lines where purchase_order_line_id = pl.id)
          or pl.quantity_units <> pl.received_units + pl.rejected_units)`),
    ).toBe(0);
    // Subtotals are the sums of their lines; numbers run 1..N without a gap, and the counter is at N.
    expect(
      await count(sql`select count(*) from purchase_orders po
        where po.org_id = ${DEMO_ORG_ID}
          and po.subtotal <> (select sum(line_total) from purchase_order_lines where purchase_order_id = po.id)`),
    ).toBe(0);
    const numbers = await sql<{ count: string; max: number; counter: number }>`
      select count(*), max(number) as max,
             (select last_number from purchase_order_counters where org_id = ${DEMO_ORG_ID}) as counter
        from purchase_orders where org_id = ${DEMO_ORG_ID}`.execute(db);
    expect(Number(numbers.rows[0]!.count)).toBe(numbers.rows[0]!.max);
    expect(numbers.rows[0]!.counter).toBe(numbers.rows[0]!.max);
  });

  it('has forecasts and reorder policies once the first forecast job it queues has run', async () => {
    await seedDemo(t.testDatabase.database);
    await queueDemoForecasts(t.testDatabase.database, t.app.platform.queue);
    const db = t.testDatabase.database.db;
    const items = await db
      .selectFrom('inventory_items')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('org_id', '=', DEMO_ORG_ID)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    const deadline = Date.now() + 150_000;
    let forecasts: Array<{ method: string; insufficient_history: boolean; reorder_policy: unknown }> = [];
    while (forecasts.length < Number(items.count) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      forecasts = await db
        .selectFrom('item_forecasts')
        .select(['method', 'insufficient_history', 'reorder_policy'])
        .where('org_id', '=', DEMO_ORG_ID)
        .execute();
    }
    expect(forecasts).toHaveLength(Number(items.count));
    // Six months of sales: most items get a backtested model, every one a policy.
    const backtested = forecasts.filter((forecast) => !forecast.insufficient_history).length;
    expect(backtested).toBeGreaterThan(forecasts.length / 2);
    expect(forecasts.every((forecast) => forecast.reorder_policy !== null)).toBe(true);

    // The shopping list queued with them follows (its job waits for every item's forecast); here
    // a second one is queued to run now rather than at the first one's next retry.
    await t.app.platform.queue.enqueue(
      db,
      'shopping_list:generate_after_forecasts',
      {},
      { orgId: DEMO_ORG_ID },
    );
    let lists: Array<{ id: string; auto_generated: boolean }> = [];
    while (lists.length === 0 && Date.now() < deadline + 30_000) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      lists = await db
        .selectFrom('shopping_lists')
        .select(['id', 'auto_generated'])
        .where('org_id', '=', DEMO_ORG_ID)
        .execute();
    }
    expect(lists).toEqual([{ id: expect.any(String), auto_generated: true }]);
    const lines = await db
      .selectFrom('shopping_list_items')
      .select(['quantity', 'reason'])
      .where('list_id', '=', lists[0]!.id)
      .execute();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => Number(line.quantity) > 0 && (line.reason ?? '').length > 0)).toBe(true);
  }, 240_000);

  it('has three processed invoices of one vendor once the job it queues after start has run: in review with conflicts, paid, overdue', async () => {
    await seedDemo(t.testDatabase.database);
    await queueDemoInvoices(t.testDatabase.database, t.app.platform.queue);
    // A second queueing (a restart) adds nothing: one job per singleton key.
    await queueDemoInvoices(t.testDatabase.database, t.app.platform.queue);
    const db = t.testDatabase.database.db;
    const vendor = await db
      .selectFrom('vendors')
      .select(['id', 'payment_terms'])
      .where('org_id', '=', DEMO_ORG_ID)
      .where('name', '=', DEMO_INVOICE_VENDOR.name)
      .executeTakeFirstOrThrow();
    expect(vendor.payment_terms).toBe('Net 30');
    const deadline = Date.now() + 120_000;
    let rows: Array<{ id: string; invoice_number: string | null; payment_status: string }> = [];
    while (Date.now() < deadline) {
      rows = await db
        .selectFrom('invoices')
        .select(['id', 'invoice_number', 'payment_status'])
        .where('org_id', '=', DEMO_ORG_ID)
        .orderBy('invoice_number')
        .execute();
      const states = new Set(rows.map((row) => row.payment_status));
      if (rows.length === 3 && states.has('paid') && states.has('overdue')) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const today = todayIn(DEMO_TIME_ZONE);
    const prefix = `VDC-${today.replaceAll('-', '')}`;
    expect(rows.map((row) => [row.invoice_number, row.payment_status])).toEqual([
      [`${prefix}-1`, 'pending'],
      [`${prefix}-2`, 'paid'],
      [`${prefix}-3`, 'overdue'],
    ]);

    const admin = (await login(t.app, DEMO_USERS[0]!.email, DEMO_PASSWORD)).json().data;
    const [review, paid, overdue] = await Promise.all(
      rows.map(
        async (row) =>
          (
            await t.app.inject({ method: 'GET', url: `/v1/invoices/${row.id}`, headers: bearer(admin) })
          ).json().data,
      ),
    );
    // In review: two lines billed from the vendor's catalogue (the first 12 % over the order's
    // price) and one line no item matches.
    expect(review).toMatchObject({
      status: 'review',
      paymentStatus: 'pending',
      format: 'csv',
      vendorId: vendor.id,
      invoiceDate: today,
      dueDate: addDays(today, 30),
    });
    expect(review.lines).toHaveLength(3);
    expect(review.lines.map((line: { matchMethod: string | null }) => line.matchMethod)).toEqual([
      'catalogue_sku',
      'catalogue_sku',
      null,
    ]);
    expect(review.lines[2]).toMatchObject({
      description: 'Promotional chiller display stand',
      itemId: null,
      quantity: 1,
      unitCost: 45,
    });
    const priced = review.lines[0];
    expect(priced.unitCost).toBe(Math.round(priced.poUnitCost * (1 + DEMO_PRICE_RISE) * 100) / 100);
    expect(
      review.matchingResults.conflicts.map((conflict: { kind: string; lineNumber: number }) => [
        conflict.kind,
        conflict.lineNumber,
      ]),
    ).toEqual([
      ['price_variance', priced.lineNumber],
      ['unmatched', review.lines[2].lineNumber],
    ]);
    expect(review.matchingResults).toMatchObject({ matched: 2, unmatched: 1 });

    // Approved and paid: billed as ordered and received, so nothing conflicts.
    expect(paid).toMatchObject({
      status: 'approved',
      paymentStatus: 'paid',
      paidDate: today,
      paymentMethod: 'Bank transfer',
      invoiceDate: today,
    });
    expect(paid.matchingResults).toEqual({ matched: 2, unmatched: 0, conflicts: [] });
    for (const line of paid.lines) {
      expect(line).toMatchObject({ matchMethod: 'catalogue_sku', unitCost: line.poUnitCost });
      expect(line.quantity).toBe(line.orderedQuantity);
    }

    // Dated 60 days back with the vendor's Net 30: 30 days past due, marked by the nightly pass.
    expect(overdue).toMatchObject({
      status: 'review',
      paymentStatus: 'overdue',
      invoiceDate: addDays(today, -60),
      dueDate: addDays(today, -30),
    });
    expect(overdue.lines).toHaveLength(2);
    expect(overdue.matchingResults.conflicts).toEqual([]);
    // No line is billed twice across the three.
    const skus = [...review.lines, ...paid.lines, ...overdue.lines]
      .map((line: { sku: string | null }) => line.sku)
      .filter((sku) => sku !== 'VDC-DISPLAY-1');
    expect(new Set(skus).size).toBe(6);
  }, 180_000);

  it('has the daily schedules, at 06:00 and 08:00 in the store’s zone', async () => {
    await seedDemo(t.testDatabase.database);
    await new Scheduler(t.testDatabase.database.db, t.app.platform.queue, t.app.log, 300).tick(new Date());
    const admin = (await login(t.app, DEMO_USERS[0]!.email, DEMO_PASSWORD)).json().data;
    const schedules = await t.app.inject({ method: 'GET', url: '/v1/schedules', headers: bearer(admin) });
    expect(schedules.json().data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'inventory:check_expiry',
          cron: '0 6 * * *',
          timeZone: 'Europe/Rome',
          enabled: true,
        }),
        expect.objectContaining({
          type: 'inventory:low_stock_check',
          cron: '0 8 * * *',
          timeZone: 'Europe/Rome',
          enabled: true,
        }),
      ]),
    );
  });
});
