import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely's view of the tables created by migrations/*.sql. Keep in step with the SQL: the
 * migrations are the truth, this file is how TypeScript sees them.
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

type Json<T> = ColumnType<T, T | string | undefined, T | string>;

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  /** Validated against the settings schema before writing; missing keys take their defaults. */
  settings: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type UserRole = 'admin' | 'manager' | 'employee' | 'viewer';

export interface UsersTable {
  id: Generated<string>;
  org_id: string;
  email: string;
  username: string;
  password_hash: string | null;
  role: UserRole;
  active: Generated<boolean>;
  session_version: Generated<number>;
  last_login_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  org_id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  remember_me: boolean;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Timestamp;
}

export type OneTimeTokenPurpose = 'password_reset' | 'invitation';

export interface OneTimeTokensTable {
  id: Generated<string>;
  org_id: string;
  user_id: string;
  purpose: OneTimeTokenPurpose;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  created_at: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  org_id: string;
  actor_id: string | null;
  subject_user_id: string | null;
  action: string;
  details: Json<Record<string, unknown>>;
  ip: string | null;
  created_at: Timestamp;
}

export interface MailOutboxTable {
  id: Generated<string>;
  org_id: string | null;
  to_address: string;
  subject: string;
  body: string;
  transport: 'smtp' | 'log';
  /** File names of the mail's attachments (0022); the bytes are not kept. */
  attachment_names: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Timestamp;
}

export interface SchemaMigrationsTable {
  version: string;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

/** numeric columns arrive as strings (exact decimals); the service converts at the edge. */
type Numeric = ColumnType<string, string | number, string | number>;
type NullableNumeric = ColumnType<string | null, string | number | null | undefined, string | number | null>;

export type VendorStatus = 'active' | 'inactive';

export interface VendorsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  contact_info: string | null;
  address: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  country: string | null;
  phone: string | null;
  email: string | null;
  website: string | null;
  contact_person: string | null;
  payment_terms: string | null;
  tax_id: string | null;
  notes: string | null;
  minimum_order_value: NullableNumeric;
  status: Generated<VendorStatus>;
  deactivated_at: Date | null;
  search_text: ColumnType<string, never, never>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A price break: from `minQuantity` units on, each unit costs `unitCost`. */
export interface PriceBreak {
  minQuantity: number;
  unitCost: number;
}

export type OrderUnit = 'unit' | 'case';

export interface VendorProductsTable {
  id: Generated<string>;
  org_id: string;
  vendor_id: string;
  item_id: string;
  vendor_sku: string | null;
  vendor_description: string | null;
  units_per_case: Generated<number>;
  minimum_order_quantity: ColumnType<string, string | number | undefined, string | number>;
  minimum_order_unit: Generated<OrderUnit>;
  unit_cost: ColumnType<string, string | number, string | number>;
  price_breaks: Json<PriceBreak[]>;
  lead_time_days: Generated<number>;
  delivery_days: ColumnType<number[], number[] | undefined, number[]>;
  preferred: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PurchaseOrderCountersTable {
  org_id: string;
  last_number: Generated<number>;
}

export type PurchaseOrderStatus = 'draft' | 'sent' | 'partially_received' | 'received' | 'cancelled';

type DateColumn = ColumnType<string, string, string>;

export interface PurchaseOrdersTable {
  id: Generated<string>;
  org_id: string;
  vendor_id: string;
  number: number;
  status: Generated<PurchaseOrderStatus>;
  order_date: DateColumn;
  expected_date: DateColumn;
  notes: string | null;
  currency: Generated<string>;
  subtotal: ColumnType<string, string | number | undefined, string | number>;
  created_by: string | null;
  sent_at: Date | null;
  acknowledged_at: Date | null;
  first_received_at: Date | null;
  received_at: Date | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  /** Closed as received with units still outstanding (0022): the rest is not coming. */
  short_closed_at: Date | null;
  close_reason: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PurchaseOrderLinesTable {
  id: Generated<string>;
  org_id: string;
  purchase_order_id: string;
  line_number: number;
  item_id: string;
  vendor_sku: string | null;
  description: string;
  order_unit: Generated<OrderUnit>;
  quantity: ColumnType<string, string | number, string | number>;
  units_per_case: Generated<number>;
  quantity_units: ColumnType<string, never, never>;
  unit_cost: ColumnType<string, string | number, string | number>;
  line_total: ColumnType<string, never, never>;
  received_units: ColumnType<string, string | number | undefined, string | number>;
  rejected_units: ColumnType<string, string | number | undefined, string | number>;
}

export interface ReceiptsTable {
  id: Generated<string>;
  org_id: string;
  purchase_order_id: string | null;
  vendor_id: string | null;
  supplier_name: string | null;
  received_at: Timestamp;
  received_date: DateColumn;
  received_by: string | null;
  notes: string | null;
  delivery_reference: string | null;
  created_at: Timestamp;
}

export type RejectionReason = 'damaged' | 'short_dated' | 'wrong_item' | 'quality';

export interface ReceiptLinesTable {
  id: Generated<string>;
  org_id: string;
  receipt_id: string;
  purchase_order_line_id: string | null;
  item_id: string;
  quantity_received: ColumnType<string, string | number | undefined, string | number>;
  quantity_rejected: ColumnType<string, string | number | undefined, string | number>;
  rejection_reason: RejectionReason | null;
  lot_code: string | null;
  expiration_date: ColumnType<string | null, string | null | undefined, string | null>;
  unit_cost: NullableNumeric;
  short_dated: Generated<boolean>;
  lot_id: string | null;
  movement_id: string | null;
}

export interface VendorPerformanceSnapshotsTable {
  org_id: string;
  vendor_id: string;
  week_start: DateColumn;
  metrics: Json<Record<string, unknown>>;
  computed_at: Timestamp;
}

export interface InventorySearchWordsTable {
  org_id: string;
  word: string;
}

export interface InventoryItemsTable {
  id: Generated<string>;
  org_id: string;
  description: string;
  category: string;
  brand: string | null;
  department: string | null;
  item_sku: string | null;
  item_upc: string | null;
  gtin: string | null;
  pack_size: string | null;
  qty_shipped: Numeric;
  remaining_stock: Numeric;
  earliest_expiry: ColumnType<string | Date | null, string | Date | null | undefined, string | Date | null>;
  sales_weekly: NullableNumeric;
  location: string | null;
  aisle: string | null;
  row: string | null;
  bin: string | null;
  unit_cost: NullableNumeric;
  vendor_cost: NullableNumeric;
  cust_cost_each: NullableNumeric;
  unit_retail: NullableNumeric;
  advertising_flag: Generated<boolean>;
  order_type: string | null;
  vendor_id: string | null;
  reorder_point: NullableNumeric;
  shelf_life_days: number | null;
  /** 0 out, 1 at or below the low-stock line, 2 above it: kept by a trigger (0006_item_stock_level.sql). */
  stock_level: ColumnType<number, never, never>;
  /** lower(category), generated: what category filters compare and index (0007_item_category_key.sql). */
  category_key: ColumnType<string, never, never>;
  search_vector: ColumnType<string, never, never>;
  deleted_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InventoryLotsTable {
  id: Generated<string>;
  org_id: string;
  item_id: string;
  lot_code: string | null;
  quantity: Numeric;
  initial_quantity: Numeric;
  expiration_date: ColumnType<string | Date | null, string | Date | null | undefined, string | Date | null>;
  received_date: ColumnType<string | Date, string | Date | undefined, string | Date>;
  unit_cost: NullableNumeric;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type MovementType = 'receipt' | 'sale' | 'adjustment' | 'waste' | 'count' | 'transfer';

export interface StockMovementsTable {
  id: Generated<string>;
  org_id: string;
  item_id: string;
  type: MovementType;
  reason: string;
  quantity: Numeric;
  stock_before: Numeric;
  stock_after: Numeric;
  lots: Json<Array<{ lotId: string; quantity: number }>>;
  unit_cost: NullableNumeric;
  notes: string | null;
  user_id: string | null;
  occurred_at: Timestamp;
  /** Draw order, under the item's row lock: the order an item's movements applied (0016). */
  seq: Generated<string>;
}

export interface ItemChangesTable {
  id: Generated<string>;
  org_id: string;
  item_id: string;
  field: string;
  old_value: Json<unknown>;
  new_value: Json<unknown>;
  reason: string | null;
  movement_id: string | null;
  changed_by: string | null;
  changed_at: Timestamp;
  /** Draw order, under the item's row lock: the order an item's changes applied (0016). */
  seq: Generated<string>;
}

export interface OutboxEventsTable {
  id: Generated<string>;
  org_id: string;
  type: string;
  payload: Json<Record<string, unknown>>;
  created_at: Timestamp;
  published_at: Date | null;
  /** The delivery sequence, given when the event is published (migration 0025); null until then. */
  seq: number | null;
}

/** The outbox publisher's one row: its high-water mark and how far pruning has deleted. */
export interface OutboxDeliveryTable {
  singleton: Generated<boolean>;
  last_seq: number;
  pruned_through: Generated<number>;
}

export interface JobProgressTable {
  job_id: string;
  org_id: string | null;
  progress: number;
  updated_at: Generated<Date>;
}

export interface JobSchedulesTable {
  id: Generated<string>;
  org_id: string;
  job_type: string;
  name: string;
  cron: string;
  payload: Json<Record<string, unknown>>;
  priority: Generated<'low' | 'normal' | 'high' | 'critical'>;
  enabled: Generated<boolean>;
  builtin: Generated<boolean>;
  time_zone: string | null;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_job_id: string | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface IdempotencyKeysTable {
  org_id: string;
  key: string;
  user_id: string | null;
  request_hash: string;
  status_code: number | null;
  response: Json<unknown> | null;
  created_at: Timestamp;
}

export interface InventoryItemCountsTable {
  org_id: string;
  category: string;
  /** Counter slot of the writing backend (0012): a total is the sum over slots. */
  slot: ColumnType<number, never, never>;
  live_count: ColumnType<number, never, never>;
}

export type FileCategory = 'invoice' | 'product_image' | 'document' | 'report';

/** Uploaded files (0020_files.sql); the bytes are in the storage driver under `storage_key`. */
export interface FilesTable {
  id: Generated<string>;
  org_id: string;
  category: FileCategory;
  original_filename: string;
  mime_type: string;
  /** bigint: pg returns it as text. */
  size_bytes: ColumnType<string, string | number, string | number>;
  sha256: string;
  storage_key: string;
  title: string | null;
  description: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  related_id: string | null;
  thumbnail_key: string | null;
  uploaded_by: string | null;
  created_at: Timestamp;
  deleted_at: Date | null;
  purged_at: Date | null;
}

export type AlertKind = 'low_stock' | 'expiry' | 'anomaly';
export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertState = 'open' | 'acknowledged' | 'resolved';

export interface AlertsTable {
  id: Generated<string>;
  org_id: string;
  item_id: string;
  kind: AlertKind;
  severity: AlertSeverity;
  state: Generated<AlertState>;
  details: Json<Record<string, unknown>>;
  opened_at: Timestamp;
  updated_at: Timestamp;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolution: string | null;
}

export type NotificationCategory = 'lowStock' | 'expiry' | 'invoices' | 'reports' | 'message';
export type NotificationType = 'info' | 'warning' | 'error' | 'success';

export interface PushSubscriptionsTable {
  id: Generated<string>;
  org_id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  low_stock: boolean;
  expiry: boolean;
  invoices: boolean;
  reports: boolean;
  user_agent: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_pushed_at: Date | null;
}

export interface NotificationsTable {
  id: Generated<string>;
  org_id: string;
  user_id: string;
  category: NotificationCategory;
  type: NotificationType;
  title: string;
  message: string;
  data: Json<unknown> | null;
  actions: Json<Array<{ action: string; title: string; url?: string }>>;
  created_by: string | null;
  created_at: Timestamp;
  read_at: Date | null;
}

export interface NotificationPreferencesTable {
  user_id: string;
  org_id: string;
  email_digest: Generated<boolean>;
  updated_at: Timestamp;
}

export interface NotificationDigestsTable {
  org_id: string;
  user_id: string;
  /** The store-local day, 'YYYY-MM-DD'. */
  day: DateColumn;
  alerts: number;
  queued_at: Timestamp;
}

export interface PromotionsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  item_id: string | null;
  category: string | null;
  starts_on: DateColumn;
  ends_on: DateColumn;
  /** numeric(5,2): pg returns a string. */
  discount_percent: ColumnType<string, number | string, number | string>;
  notes: string | null;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface StoredForecastPoint {
  date: string;
  mean: number;
  sd: number;
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
  factors: Array<{ name: string; impact: number }>;
}

export interface ItemForecastsTable {
  org_id: string;
  item_id: string;
  computed_at: Timestamp;
  history_through: DateColumn;
  history_days: number;
  history_fingerprint: string;
  method: string;
  method_reason: string;
  insufficient_history: boolean;
  horizon: number;
  points: Json<StoredForecastPoint[]>;
  accuracy: Json<Record<string, number | null> | null>;
  candidates: Json<Array<Record<string, unknown>>>;
  reorder_policy: Json<Record<string, unknown> | null>;
}

export type AnomalyType = 'demand_spike' | 'demand_drop' | 'cost_increase' | 'quality_issue';
export type AnomalySeverity = 'low' | 'medium' | 'high';

export interface AnomaliesTable {
  id: Generated<string>;
  org_id: string;
  item_id: string;
  type: AnomalyType;
  severity: AnomalySeverity;
  dedupe_key: string;
  observed_on: DateColumn;
  vendor_id: string | null;
  description: string;
  suggested_actions: Json<string[]>;
  details: Json<Record<string, unknown>>;
  state: Generated<'open' | 'dismissed'>;
  detected_at: Timestamp;
  alert_id: string | null;
}

export interface AnomalyDetectionRunsTable {
  org_id: string;
  last_run_at: Date | string;
  summary: Json<Record<string, unknown>>;
}

export type InvoiceStatus = 'processing' | 'review' | 'approved' | 'failed';
export type InvoicePaymentStatus = 'pending' | 'paid' | 'overdue';
export type InvoiceMatchMethod = 'gtin' | 'learned_sku' | 'catalogue_sku' | 'description' | 'manual';

/** Vendor invoices (0030_invoices.sql): the processing/review state and the payment status. */
export interface InvoicesTable {
  id: Generated<string>;
  org_id: string;
  file_id: string;
  file_sha256: string;
  source_index: Generated<number>;
  vendor_id: string | null;
  status: Generated<InvoiceStatus>;
  payment_status: Generated<InvoicePaymentStatus>;
  failure_code: string | null;
  failure_message: string | null;
  invoice_number: string | null;
  invoice_date: ColumnType<string | null, string | null | undefined, string | null>;
  due_date: ColumnType<string | null, string | null | undefined, string | null>;
  currency: string | null;
  subtotal: NullableNumeric;
  tax: NullableNumeric;
  total: NullableNumeric;
  vendor_name: string | null;
  vendor_tax_id: string | null;
  format: string | null;
  extraction: Json<Record<string, unknown> | null>;
  corrections: Json<Record<string, unknown>>;
  conflicts: Json<Array<Record<string, unknown>>>;
  credit_amount: ColumnType<string, string | number | undefined, string | number>;
  paid_date: ColumnType<string | null, string | null | undefined, string | null>;
  payment_method: string | null;
  payment_notes: string | null;
  uploaded_by: string | null;
  approved_by: string | null;
  approved_at: Date | null;
  processed_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InvoiceLinesTable {
  id: Generated<string>;
  org_id: string;
  invoice_id: string;
  line_number: number;
  description: Generated<string>;
  quantity: NullableNumeric;
  unit: string | null;
  unit_cost: NullableNumeric;
  line_total: NullableNumeric;
  gtin: string | null;
  vendor_sku: string | null;
  tax_rate: NullableNumeric;
  item_id: string | null;
  match_method: InvoiceMatchMethod | null;
  match_score: NullableNumeric;
  suggestions: Json<Array<{ itemId: string; description: string; score: number }>>;
  ignored: Generated<boolean>;
  po_line_id: string | null;
  ordered_quantity: NullableNumeric;
  received_quantity: NullableNumeric;
  po_unit_cost: NullableNumeric;
  expiration_date: ColumnType<string | null, string | null | undefined, string | null>;
  lot_code: string | null;
  movement_id: string | null;
}

export interface VendorInvoiceHintsTable {
  org_id: string;
  vendor_id: string;
  hints: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

export interface InvoiceAdjustmentsTable {
  id: Generated<string>;
  org_id: string;
  invoice_id: string;
  item_id: string;
  expected_quantity: Numeric;
  actual_quantity: Numeric;
  reason: string;
  unit_cost: NullableNumeric;
  credit_amount: ColumnType<string, string | number | undefined, string | number>;
  movement_id: string | null;
  created_by: string | null;
  created_at: Timestamp;
}

export type ShoppingListStatus = 'pending' | 'completed';
export type ShoppingPriority = 'low' | 'medium' | 'high' | 'urgent';

export interface ShoppingListsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  status: Generated<ShoppingListStatus>;
  priority: Generated<ShoppingPriority>;
  auto_generated: Generated<boolean>;
  generated_for: ColumnType<string | null, string | null | undefined, string | null>;
  criteria: Json<Record<string, unknown> | null>;
  optimization: Json<Record<string, unknown> | null>;
  notes: string | null;
  created_by: string | null;
  completed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ShoppingListItemsTable {
  id: Generated<string>;
  org_id: string;
  list_id: string;
  position: number;
  item_id: string | null;
  name: string;
  quantity: Numeric;
  suggested_quantity: NullableNumeric;
  priority: ShoppingPriority | null;
  reason: string | null;
  estimated_cost: NullableNumeric;
  vendor_id: string | null;
  empties_on: ColumnType<string | null, string | null | undefined, string | null>;
  max_quantity: NullableNumeric;
  purchased: Generated<boolean>;
  actual_cost: NullableNumeric;
  notes: string | null;
  purchase_order_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DB {
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  vendor_invoice_hints: VendorInvoiceHintsTable;
  invoice_adjustments: InvoiceAdjustmentsTable;
  anomalies: AnomaliesTable;
  anomaly_detection_runs: AnomalyDetectionRunsTable;
  shopping_lists: ShoppingListsTable;
  shopping_list_items: ShoppingListItemsTable;
  promotions: PromotionsTable;
  item_forecasts: ItemForecastsTable;
  alerts: AlertsTable;
  push_subscriptions: PushSubscriptionsTable;
  notifications: NotificationsTable;
  notification_preferences: NotificationPreferencesTable;
  notification_digests: NotificationDigestsTable;
  files: FilesTable;
  inventory_item_counts: InventoryItemCountsTable;
  vendors: VendorsTable;
  vendor_products: VendorProductsTable;
  purchase_order_counters: PurchaseOrderCountersTable;
  purchase_orders: PurchaseOrdersTable;
  purchase_order_lines: PurchaseOrderLinesTable;
  receipts: ReceiptsTable;
  receipt_lines: ReceiptLinesTable;
  vendor_performance_snapshots: VendorPerformanceSnapshotsTable;
  inventory_items: InventoryItemsTable;
  inventory_search_words: InventorySearchWordsTable;
  inventory_lots: InventoryLotsTable;
  stock_movements: StockMovementsTable;
  item_changes: ItemChangesTable;
  outbox_events: OutboxEventsTable;
  outbox_delivery: OutboxDeliveryTable;
  job_progress: JobProgressTable;
  job_schedules: JobSchedulesTable;
  idempotency_keys: IdempotencyKeysTable;
  organizations: OrganizationsTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  one_time_tokens: OneTimeTokensTable;
  audit_events: AuditEventsTable;
  mail_outbox: MailOutboxTable;
  schema_migrations: SchemaMigrationsTable;
}
