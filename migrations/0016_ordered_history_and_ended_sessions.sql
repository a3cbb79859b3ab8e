-- 1. An item's history in the order its changes applied.
--
-- Why: stock_movements.occurred_at and item_changes.changed_at defaulted to now(), the start of
-- the writing transaction. Concurrent adjustments of one item queue on the item's row lock
-- (SELECT … FOR UPDATE) and apply one after another, but not in the order their transactions
-- began: of 200 concurrent adjustments on PostgreSQL, the history listed by time did not chain
-- (a row's old stock was not the new stock of the row listed before it).
--
-- `seq` is taken from a sequence when the row is inserted, and every write of an item's ledger
-- or history happens while its transaction holds that item's row lock, taken before and held
-- until commit: a change that waited for the lock draws its numbers after the one it waited
-- for has committed, so for one item `seq` increases in the order the changes applied. Across
-- items it only says which came later. This needs nextval() to hand numbers out in the order it
-- is called across sessions, which holds with CACHE 1 (PostgreSQL's default), not with a larger
-- cache (each session would take a block of its own), hence stated below.
--
-- Times are now taken when the row is written (clock_timestamp()), also under the lock, so the
-- times shown agree with the order. A caller may still write an explicit occurred_at (the demo
-- seed backdates its ledger); the order is seq's.
--
-- Rows that exist already are numbered in their old order (time, then id).

alter table item_changes add column seq bigint;
update item_changes c
   set seq = o.n
  from (select id, row_number() over (order by changed_at, id) as n from item_changes) o
 where o.id = c.id;
alter table item_changes alter column seq set not null;
alter table item_changes alter column seq add generated always as identity (cache 1);
select setval(pg_get_serial_sequence('item_changes', 'seq'), coalesce(max(seq), 0) + 1, false)
  from item_changes;
alter table item_changes alter column changed_at set default clock_timestamp();

-- The history endpoint pages through one item newest first: a backward walk of this index.
-- It replaces (item_id, changed_at desc, id desc), which only that endpoint read.
drop index item_changes_item_idx;
create index item_changes_item_seq_idx on item_changes (item_id, seq);

alter table stock_movements add column seq bigint;
update stock_movements m
   set seq = o.n
  from (select id, row_number() over (order by occurred_at, id) as n from stock_movements) o
 where o.id = m.id;
alter table stock_movements alter column seq set not null;
alter table stock_movements alter column seq add generated always as identity (cache 1);
select setval(pg_get_serial_sequence('stock_movements', 'seq'), coalesce(max(seq), 0) + 1, false)
  from stock_movements;
alter table stock_movements alter column occurred_at set default clock_timestamp();
-- No index on (item_id, seq) for the ledger yet: no endpoint lists one item's movements (the
-- history above does, with their balances), and each index is paid on every adjustment.

-- 2. Sessions ended within an access token's lifetime, read when a user's session state is
-- cached (src/modules/auth/session-state.ts): the newest revocations of one user.
create index refresh_tokens_ended_idx on refresh_tokens (user_id, revoked_at) where revoked_at is not null;
