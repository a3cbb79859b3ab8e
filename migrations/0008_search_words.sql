-- Each store's search vocabulary: the distinct words of its items' names and brands, kept by
-- triggers. Typo-tolerant search corrects each searched word against it (Damerau-Levenshtein,
-- in spelling.ts) and then searches the full-text index with the corrected words.
--
-- Why: the previous typo stage compared the whole search string by trigram word similarity with
-- every item's text. At 100,000 items it took 17-33 ms a search, and it found nothing for most
-- misspelt phrases ('ornage juice', 'gruond beef'): swapped letters break trigrams and a
-- two-word query is compared as one. A store's vocabulary is a few hundred to a few thousand
-- words, so correcting against it costs microseconds, and the full-text index does the rest.
--
-- Words are never removed when an item goes: a word no item still has corrects to a search that
-- finds nothing, which is the answer anyway. Words with digits (sizes, codes) are left out.

create table inventory_search_words (
  org_id uuid not null references organizations (id),
  word   text not null,
  primary key (org_id, word)
);

create function inventory_words_of(p_text text) returns setof text
  language sql immutable
as $$
  select word from unnest(tsvector_to_array(to_tsvector('simple', p_text))) as word
   where length(word) >= 3 and word !~ '[0-9]'
$$;

-- New items, per statement: a 500-row import batch adds its words in one insert.
create function inventory_words_after_insert() returns trigger
  language plpgsql as $$
begin
  insert into inventory_search_words (org_id, word)
  select distinct n.org_id, w.word
    from new_rows n, inventory_words_of(n.description || ' ' || coalesce(n.brand, '')) as w (word)
  on conflict do nothing;
  return null;
end
$$;

create function inventory_words_after_rename() returns trigger
  language plpgsql as $$
begin
  insert into inventory_search_words (org_id, word)
  select new.org_id, w.word from inventory_words_of(new.description || ' ' || coalesce(new.brand, '')) as w (word)
  on conflict do nothing;
  return null;
end
$$;

create trigger inventory_words_insert after insert on inventory_items
  referencing new table as new_rows for each statement execute function inventory_words_after_insert();
-- Only when the name or brand is set: stock changes update items all day long.
create trigger inventory_words_rename after update of description, brand on inventory_items
  for each row when (old.description is distinct from new.description or old.brand is distinct from new.brand)
  execute function inventory_words_after_rename();

insert into inventory_search_words (org_id, word)
select distinct i.org_id, w.word
  from inventory_items i, inventory_words_of(i.description || ' ' || coalesce(i.brand, '')) as w (word)
on conflict do nothing;

-- The row-level security every tenant table gets (0002-0004 spelled it out each time): forced, the
-- app role confined to its organisation, the owning role (migrations, sign-in lookups) not.
create function app_enable_tenant_rls(p_table regclass) returns void
  language plpgsql as $$
begin
  execute format('alter table %s enable row level security', p_table);
  execute format('alter table %s force row level security', p_table);
  execute format(
    'create policy tenant_isolation on %s to fresh_choice_app using (org_id = app_current_org()) with check (org_id = app_current_org())',
    p_table);
  execute format('create policy system_access on %s to %I using (true) with check (true)', p_table, current_user);
end
$$;

grant select, insert on inventory_search_words to fresh_choice_app;
select app_enable_tenant_rls('inventory_search_words');

-- The whole-text trigram stage is gone, and with it the lower-cased text column and its trigram
-- index, which every insert and rename of an item paid for.
alter table inventory_items drop column search_text;
