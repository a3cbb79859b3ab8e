-- Realtime delivery of the outbox (src/platform/realtime/relay.ts has the full reasoning).
--
-- `outbox_events.id` is drawn when a row is inserted, not when its transaction commits, so a
-- reader of "id > cursor" can pass a row whose transaction commits after a later id's. A
-- publisher gives committed rows a gapless delivery sequence, `seq`, in the order it discovers
-- them (one publisher at a time, under an advisory lock); readers follow `seq`, never `id`.

alter table outbox_events add column seq bigint;

-- Rows written before this migration count as already delivered: they get their sequence in id
-- order, and a client resuming from one of them is served from here on.
with numbered as (select id, row_number() over (order by id) as n from outbox_events)
update outbox_events o
   set seq = numbered.n, published_at = coalesce(o.published_at, now())
  from numbered
 where o.id = numbered.id;

alter table outbox_events add constraint outbox_events_seq_key unique (seq);
-- A client's resume: its store's events after its last id, in order.
create index outbox_events_org_seq_idx on outbox_events (org_id, seq) where seq is not null;

-- The publisher's high-water mark, and how far pruning has deleted (a resume from before it is
-- told to resync). One row; kept apart from the events so pruning them all loses neither.
create table outbox_delivery (
  singleton      boolean primary key default true check (singleton),
  last_seq       bigint not null,
  pruned_through bigint not null default 0
);
insert into outbox_delivery (last_seq) select coalesce(max(seq), 0) from outbox_events;

-- Every statement that writes outbox rows wakes the publishers; NOTIFY is delivered when the
-- writing transaction commits (and not at all if it rolls back), and repeats within one
-- transaction fold into one.
create function outbox_events_notify() returns trigger
language plpgsql as $$
begin
  perform pg_notify('fc_outbox', '');
  return null;
end
$$;

create trigger outbox_events_notify
  after insert on outbox_events
  for each statement execute function outbox_events_notify();
