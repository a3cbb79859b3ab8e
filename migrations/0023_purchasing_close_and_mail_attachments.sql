-- A purchase order closed short (POST /v1/purchase-orders/:id/close): partially received, and the
-- rest is not coming. The order becomes `received`; these say when and why it was closed short.
alter table purchase_orders
  add column short_closed_at timestamptz,
  add column close_reason    text check (length(close_reason) <= 1000);

-- The names of a mail's attachments (a purchase order's PDF): the outbox keeps who/what/when and,
-- without SMTP, the body, never the attachment's bytes.
alter table mail_outbox add column attachment_names text[] not null default '{}';
