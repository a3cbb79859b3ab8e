-- Vacuum the items table after a few thousand changes, not after a fifth of the table.
--
-- Why: a list page is an index-only walk of the items index in the page's order, and an
-- index-only scan can skip the table row only on pages the visibility map marks all-visible. A
-- new item (and any update) clears that mark on the page it lands on, and only VACUUM sets it
-- again. Inserts also land on older pages with free space, so 3,000 new items in a store of
-- 100,000 made the walk to page 100 fetch 4,957 of its 5,000 rows from the table: 1.4-1.8 ms
-- against 0.4-0.5 ms after a vacuum. PostgreSQL's defaults wait for 1,000 + 20% of the table's
-- rows inserted, or 50 + 20% updated or deleted (about 21,000 at 100,000 items) before
-- autovacuum visits it, so a busy store's list pages stayed at the slower cost most of the day.
--
-- Here: about 1,000 + 1% inserted, or 50 + 2% updated (about 2,000 at 100,000 items). A vacuum
-- after inserts alone skips the all-visible pages and, with no dead rows, the index cleanup, so
-- it is cheap. These are storage parameters of the table: they act wherever autovacuum runs (it
-- is on by default; the benchmark machine has it off, which BENCHMARKS.md says).

alter table inventory_items set (
  autovacuum_vacuum_insert_threshold = 1000,
  autovacuum_vacuum_insert_scale_factor = 0.01,
  autovacuum_vacuum_scale_factor = 0.02
);
