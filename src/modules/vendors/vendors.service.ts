import type * as PhoneRules from 'libphonenumber-js/max';
import { writeOutboxEvents } from '../../platform/db/outbox.ts';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import { withTenant } from '../../platform/db/tenant.ts';
import { paginate } from '../../platform/http/envelope.ts';
import { AppError, errors } from '../../platform/http/errors.ts';
import { invalidInput, type InputProblem } from '../../platform/http/input-guard.ts';
import type { AuthContext } from '../auth/guard.ts';
import { normalisePriceBreaks } from './catalogue.ts';
import * as repo from './vendors.repository.ts';
import type {
  CreateProductBody,
  CreateVendorBody,
  ProductListQuery,
  UpdateProductBody,
  UpdateVendorBody,
  Vendor,
  VendorListQuery,
  VendorProduct,
} from './vendors.schemas.ts';

/** ISO 3166-1 alpha-2: the officially assigned codes, and XK (Kosovo, user-assigned but in common use). */
const COUNTRIES = new Set(
  `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
   BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
   FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
   IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
   MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
   PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
   SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
   YT ZA ZM ZW XK`.split(/\s+/),
);

/** Vendor fields that are plain texts, with their columns. */
const TEXT_COLUMNS = {
  contactInfo: 'contact_info',
  address: 'address',
  city: 'city',
  state: 'state',
  contactPerson: 'contact_person',
  paymentTerms: 'payment_terms',
  taxId: 'tax_id',
  notes: 'notes',
} as const satisfies Record<string, keyof repo.VendorValues>;

/** A text as stored: trimmed, and blank as null (a form's empty field clears it). */
function cleanText(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** Decimal places of a number as JSON wrote it (1e-7 has 7). */
function decimalsOf(value: number): number {
  const [mantissa = '', exponent = '0'] = String(value).split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

function checkDecimals(
  problems: InputProblem[],
  field: string,
  value: number | null | undefined,
  max: number,
) {
  if (typeof value === 'number' && decimalsOf(value) > max) {
    problems.push({ field, message: `must have at most ${max} decimal places` });
  }
}

function country(value: string | null | undefined, problems: InputProblem[]) {
  const code = cleanText(value)?.toUpperCase();
  if (code && !COUNTRIES.has(code)) {
    problems.push({ field: 'body.country', message: 'must be an ISO 3166-1 alpha-2 country code, e.g. US' });
  }
  return code;
}

/**
 * libphonenumber-js with its full metadata is about 19 MB resident: it is loaded with the first
 * phone number a vendor write carries, not at start-up (vendorColumns' callers await this first).
 */
let phoneRules: typeof PhoneRules | undefined;
export async function loadPhoneRules(): Promise<void> {
  phoneRules ??= await import('libphonenumber-js/max');
}

/** A phone number as E.164, read as a national number of `countryCode` when it has no +. */
function phone(value: string | null, countryCode: string | null | undefined, problems: InputProblem[]) {
  const text = cleanText(value);
  if (!text) return text;
  if (!phoneRules) throw new Error('loadPhoneRules() must run before a phone number is read');
  const { isSupportedCountry, parsePhoneNumberFromString } = phoneRules;
  const home = countryCode && isSupportedCountry(countryCode) ? countryCode : undefined;
  const parsed = parsePhoneNumberFromString(text, home ? { defaultCountry: home } : {});
  if (parsed?.isValid()) return parsed.number;
  problems.push({
    field: 'body.phone',
    message:
      !text.startsWith('+') && !home
        ? 'must be an international number (+ and the country code), or the vendor needs a `country`'
        : `is not a valid phone number${home ? ` for ${home} (or send it with + and its country code)` : ''}`,
  });
  return undefined;
}

function website(value: string | null | undefined, problems: InputProblem[]) {
  const text = cleanText(value);
  if (!text) return text;
  let url: URL | undefined;
  try {
    url = /\s/.test(text) ? undefined : new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    problems.push({ field: 'body.website', message: 'must be an http:// or https:// URL' });
    return undefined;
  }
  return text;
}

/**
 * The columns a create or update writes, from the fields the body sends (an absent field is
 * left as it is; null or blank clears it). `currentCountry` is the vendor's country, for reading
 * a national phone number when the body sends none. Every problem is collected and refused
 * together, as one 400 naming the fields.
 */
export function vendorColumns(
  body: Partial<CreateVendorBody> & { status?: 'active' | 'inactive' | undefined },
  currentCountry?: string | null,
): repo.VendorValues {
  const problems: InputProblem[] = [];
  const values: repo.VendorValues = {};
  if (body.name !== undefined) {
    const name = body.name.trim();
    if (name === '') problems.push({ field: 'body.name', message: 'must not be blank' });
    values.name = name;
  }
  for (const [field, column] of Object.entries(TEXT_COLUMNS) as Array<
    [keyof typeof TEXT_COLUMNS, (typeof TEXT_COLUMNS)[keyof typeof TEXT_COLUMNS]]
  >) {
    const value = cleanText(body[field]);
    if (value !== undefined) values[column] = value;
  }
  const zip = cleanText(body.zip);
  if (zip !== undefined) values.zip = zip;
  const code = country(body.country, problems);
  if (code !== undefined) values.country = code;
  if (body.phone !== undefined) {
    const number = phone(body.phone, code === undefined ? currentCountry : code, problems);
    if (number !== undefined) values.phone = number;
  }
  const email = cleanText(body.email);
  if (email !== undefined) values.email = email;
  const site = website(body.website, problems);
  if (site !== undefined) values.website = site;
  checkDecimals(problems, 'body.minimumOrderValue', body.minimumOrderValue, 2);
  if (body.minimumOrderValue !== undefined) values.minimum_order_value = body.minimumOrderValue;
  if (problems.length > 0) throw invalidInput(problems);
  return values;
}

/** The catalogue columns of a create or update, checked (prices' decimals, price breaks). */
export function productColumns(body: UpdateProductBody): repo.ProductValues {
  const problems: InputProblem[] = [];
  const values: repo.ProductValues = {};
  const sku = cleanText(body.vendorSku);
  if (sku !== undefined) values.vendor_sku = sku;
  const description = cleanText(body.vendorDescription);
  if (description !== undefined) values.vendor_description = description;
  if (body.unitsPerCase !== undefined) values.units_per_case = body.unitsPerCase;
  checkDecimals(problems, 'body.minimumOrderQuantity', body.minimumOrderQuantity, 3);
  if (body.minimumOrderQuantity !== undefined) values.minimum_order_quantity = body.minimumOrderQuantity;
  if (body.minimumOrderUnit !== undefined) values.minimum_order_unit = body.minimumOrderUnit;
  checkDecimals(problems, 'body.unitCost', body.unitCost, 4);
  if (body.unitCost !== undefined) values.unit_cost = body.unitCost;
  if (body.priceBreaks !== undefined) {
    body.priceBreaks.forEach((priceBreak, index) => {
      checkDecimals(problems, `body.priceBreaks.${index}.minQuantity`, priceBreak.minQuantity, 3);
      checkDecimals(problems, `body.priceBreaks.${index}.unitCost`, priceBreak.unitCost, 4);
    });
    // Against the base cost when this request sets it too; otherwise the breaks among themselves.
    const normalised = normalisePriceBreaks(body.priceBreaks, body.unitCost ?? undefined);
    if ('problem' in normalised) problems.push({ field: 'body.priceBreaks', message: normalised.problem });
    else values.price_breaks = normalised.breaks;
  }
  if (body.leadTimeDays !== undefined) values.lead_time_days = body.leadTimeDays;
  if (body.deliveryDays !== undefined) values.delivery_days = [...body.deliveryDays].sort((a, b) => a - b);
  if (body.preferred !== undefined) values.preferred = body.preferred;
  if (problems.length > 0) throw invalidInput(problems);
  return values;
}

const iso = (value: Date | string) => new Date(value).toISOString();
const numberOrNull = (value: string | number | null) => (value === null ? null : Number(value));

export function toVendor(row: repo.VendorRow): Vendor {
  return {
    id: row.id,
    name: row.name,
    contactInfo: row.contact_info,
    address: row.address,
    city: row.city,
    state: row.state,
    zip: row.zip,
    country: row.country,
    phone: row.phone,
    email: row.email,
    website: row.website,
    contactPerson: row.contact_person,
    paymentTerms: row.payment_terms,
    taxId: row.tax_id,
    notes: row.notes,
    minimumOrderValue: numberOrNull(row.minimum_order_value),
    status: row.status,
    lastOrderDate: row.last_order_date ?? null,
    deactivatedAt: row.deactivated_at === null ? null : iso(row.deactivated_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function toProduct(row: repo.ProductRow): VendorProduct {
  return {
    id: row.id,
    vendorId: row.vendor_id,
    itemId: row.item_id,
    name: row.name,
    category: row.category,
    unitCost: Number(row.unit_cost),
    lastOrderDate: row.last_order_date ?? null,
    totalOrdered: Number(row.total_ordered ?? 0),
    averageLeadTime: numberOrNull(row.average_lead_time ?? null),
    vendorSku: row.vendor_sku,
    vendorDescription: row.vendor_description,
    unitsPerCase: row.units_per_case,
    minimumOrderQuantity: Number(row.minimum_order_quantity),
    minimumOrderUnit: row.minimum_order_unit,
    priceBreaks: repo.priceBreaksOf(row.price_breaks),
    leadTimeDays: row.lead_time_days,
    deliveryDays: row.delivery_days.map(Number),
    preferred: row.preferred,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

const duplicateVendor = (name?: string) =>
  new AppError(
    409,
    'DUPLICATE_VENDOR',
    name === undefined
      ? 'The store already has a vendor of that name'
      : `The store already has a vendor named '${name}'`,
    [
      {
        field: 'body.name',
        message: 'is the name of another vendor of this store (names ignore case and outer spaces)',
      },
    ],
  );
const duplicateSku = (sku?: string) =>
  new AppError(
    409,
    'DUPLICATE_VENDOR_SKU',
    sku === undefined ? 'This vendor already lists that SKU' : `This vendor already lists the SKU '${sku}'`,
    [
      {
        field: 'body.vendorSku',
        message: 'is already on another line of this vendor’s catalogue (any case)',
      },
    ],
  );
const duplicateProduct = () =>
  new AppError(409, 'DUPLICATE_VENDOR_PRODUCT', 'This vendor’s catalogue already has a line for this item', [
    { field: 'body.itemId', message: 'already has a line in this vendor’s catalogue: update that one' },
  ]);
const inactiveVendor = (what: string) =>
  new AppError(
    422,
    'VENDOR_INACTIVE',
    `The vendor is inactive: ${what}; reactivate it first (PUT status active)`,
  );

/** The unique index a PostgreSQL error broke, if it is a unique violation. */
const brokenUnique = (error: unknown): string | undefined =>
  (error as { code?: string }).code === '23505'
    ? ((error as { constraint?: string }).constraint ?? '')
    : undefined;

/**
 * Runs `work` in a tenant transaction. Preferred-vendor changes queue on the item's row lock; should
 * one still lose a race on vendor_products_preferred_key, it runs again and then un-marks the
 * line the winner committed. Other unique violations become the 409 the index stands for.
 */
async function writeTenant<T>(db: Kysely<DB>, orgId: string, work: (trx: Transaction<DB>) => Promise<T>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTenant(db, orgId, work);
    } catch (error) {
      const index = brokenUnique(error);
      if (index === 'vendor_products_preferred_key' && attempt < 3) continue;
      if (index === 'vendors_org_name_key') throw duplicateVendor();
      if (index === 'vendor_products_vendor_sku_key') throw duplicateSku();
      if (index === 'vendor_products_vendor_item_key') throw duplicateProduct();
      throw error;
    }
  }
}

export class VendorsService {
  readonly #db: Kysely<DB>;

  constructor(db: Kysely<DB>) {
    this.#db = db;
  }

  async #vendor(trx: Kysely<DB>, orgId: string, id: string): Promise<Vendor> {
    const row = await repo.findVendor(trx, orgId, id);
    if (!row) throw errors.notFound('Vendor');
    return toVendor(row);
  }

  async list(auth: AuthContext, query: VendorListQuery) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const { rows, total } = await repo.listVendors(trx, auth.orgId, query);
      return { vendors: rows.map(toVendor), pagination: paginate(query.page, query.limit, total) };
    });
  }

  async get(auth: AuthContext, id: string): Promise<Vendor> {
    return withTenant(this.#db, auth.orgId, (trx) => this.#vendor(trx, auth.orgId, id));
  }

  async create(auth: AuthContext, body: CreateVendorBody): Promise<Vendor> {
    if (body.phone) await loadPhoneRules();
    const values = vendorColumns(body);
    const name = values.name!;
    return writeTenant(this.#db, auth.orgId, async (trx) => {
      const existing = await repo.vendorNamed(trx, auth.orgId, name);
      if (existing) throw duplicateVendor(existing.name);
      const { id } = await repo.insertVendor(trx, auth.orgId, { ...values, name });
      await writeOutboxEvents(trx, auth.orgId, [{ type: 'vendor:created', payload: { vendorId: id, name } }]);
      return this.#vendor(trx, auth.orgId, id);
    });
  }

  /**
   * Partial update. `status: inactive` deactivates (as DELETE does), `active` reactivates. Only
   * values that differ are written; a change writes `vendor:updated` (and `vendor:deactivated`).
   */
  async update(auth: AuthContext, id: string, body: UpdateVendorBody): Promise<Vendor> {
    return writeTenant(this.#db, auth.orgId, async (trx) => {
      const locked = await repo.vendorRow(trx, auth.orgId, id, 'update');
      if (!locked) throw errors.notFound('Vendor');
      const current = (await repo.findVendor(trx, auth.orgId, id))!;
      if (body.phone) await loadPhoneRules();
      const values = vendorColumns(body, current.country);
      const changed: repo.VendorValues = {};
      for (const [column, value] of Object.entries(values) as Array<[keyof repo.VendorValues, unknown]>) {
        const before = current[column as keyof repo.VendorRow];
        const same =
          column === 'minimum_order_value'
            ? numberOrNull(before as string | null) === value
            : before === value;
        if (!same) Object.assign(changed, { [column]: value });
      }
      let deactivated = false;
      if (body.status !== undefined && body.status !== current.status) {
        changed.status = body.status;
        changed.deactivated_at = body.status === 'inactive' ? new Date() : null;
        deactivated = body.status === 'inactive';
      }
      if (Object.keys(changed).length === 0) return toVendor(current);
      if (changed.name !== undefined) {
        const existing = await repo.vendorNamed(trx, auth.orgId, changed.name, id);
        if (existing) throw duplicateVendor(existing.name);
      }
      await repo.updateVendor(trx, auth.orgId, id, changed);
      const name = changed.name ?? current.name;
      const { status: _s, deactivated_at: _d, ...fields } = changed;
      const events = [];
      if (Object.keys(fields).length > 0 || body.status === 'active') {
        events.push({ type: 'vendor:updated', payload: { vendorId: id, name } });
      }
      if (deactivated) events.push({ type: 'vendor:deactivated', payload: { vendorId: id, name } });
      await writeOutboxEvents(trx, auth.orgId, events);
      return this.#vendor(trx, auth.orgId, id);
    });
  }

  /** Deactivates (the row stays for its orders and receipts); an inactive vendor is answered as is. */
  async deactivate(auth: AuthContext, id: string): Promise<Vendor> {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      const locked = await repo.vendorRow(trx, auth.orgId, id, 'update');
      if (!locked) throw errors.notFound('Vendor');
      if (locked.status === 'active') {
        await repo.updateVendor(trx, auth.orgId, id, { status: 'inactive', deactivated_at: new Date() });
        await writeOutboxEvents(trx, auth.orgId, [
          { type: 'vendor:deactivated', payload: { vendorId: id, name: locked.name } },
        ]);
      }
      return this.#vendor(trx, auth.orgId, id);
    });
  }

  // --- The catalogue ----------------------------------------------------------------------------

  async #product(trx: Kysely<DB>, orgId: string, vendorId: string, productId: string) {
    const { rows } = await repo.listProducts(trx, orgId, vendorId, { page: 1, limit: 1, productId });
    if (!rows[0]) throw errors.notFound('Catalogue line');
    return toProduct(rows[0]);
  }

  async listProducts(auth: AuthContext, vendorId: string, query: ProductListQuery) {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      if (!(await repo.vendorRow(trx, auth.orgId, vendorId, 'none'))) throw errors.notFound('Vendor');
      const { rows, total } = await repo.listProducts(trx, auth.orgId, vendorId, query);
      return { products: rows.map(toProduct), pagination: paginate(query.page, query.limit, total) };
    });
  }

  async getProduct(auth: AuthContext, vendorId: string, productId: string): Promise<VendorProduct> {
    return withTenant(this.#db, auth.orgId, async (trx) => {
      if (!(await repo.vendorRow(trx, auth.orgId, vendorId, 'none'))) throw errors.notFound('Vendor');
      return this.#product(trx, auth.orgId, vendorId, productId);
    });
  }

  async addProduct(auth: AuthContext, vendorId: string, body: CreateProductBody): Promise<VendorProduct> {
    const values = productColumns(body);
    return writeTenant(this.#db, auth.orgId, async (trx) => {
      // Locked (shared with other catalogue writes of the vendor) so it cannot be deactivated meanwhile.
      const vendor = await repo.vendorRow(trx, auth.orgId, vendorId, 'share');
      if (!vendor) throw errors.notFound('Vendor');
      if (vendor.status !== 'active') throw inactiveVendor('its catalogue takes no new lines');
      if (!(await repo.liveItem(trx, auth.orgId, body.itemId, values.preferred === true))) {
        throw errors.unprocessable('Unknown item', [
          { field: 'body.itemId', message: 'is not an item of this store (or it was deleted)' },
        ]);
      }
      const conflict = await repo.conflictingProduct(trx, auth.orgId, vendorId, {
        itemId: body.itemId,
        sku: values.vendor_sku,
      });
      if (conflict) {
        throw conflict.item_id === body.itemId ? duplicateProduct() : duplicateSku(values.vendor_sku!);
      }
      if (values.preferred) await repo.clearPreferred(trx, auth.orgId, body.itemId);
      const { id } = await repo.insertProduct(trx, auth.orgId, vendorId, body.itemId, {
        ...values,
        unit_cost: body.unitCost,
      });
      return this.#product(trx, auth.orgId, vendorId, id);
    });
  }

  async updateProduct(
    auth: AuthContext,
    vendorId: string,
    productId: string,
    body: UpdateProductBody,
  ): Promise<VendorProduct> {
    const values = productColumns(body);
    return writeTenant(this.#db, auth.orgId, async (trx) => {
      const vendor = await repo.vendorRow(trx, auth.orgId, vendorId, 'share');
      if (!vendor) throw errors.notFound('Vendor');
      const found = await repo.productRow(trx, auth.orgId, vendorId, productId, false);
      if (!found) throw errors.notFound('Catalogue line');
      // A change of the item's preferred vendor queues on the item's row lock, taken before the
      // line's (as adding a line does), so two such changes never wait on each other in turn. A
      // deleted item's row is locked too: its lines stay editable.
      if (values.preferred) await repo.lockItemRow(trx, auth.orgId, found.item_id);
      const line = await repo.productRow(trx, auth.orgId, vendorId, productId, true);
      if (!line) throw errors.notFound('Catalogue line');
      if (values.preferred && !line.preferred && vendor.status !== 'active') {
        throw inactiveVendor('it cannot become an item’s preferred vendor');
      }
      if (values.vendor_sku) {
        const conflict = await repo.conflictingProduct(trx, auth.orgId, vendorId, {
          sku: values.vendor_sku,
          exceptId: productId,
        });
        if (conflict) throw duplicateSku(values.vendor_sku);
      }
      if (values.preferred) await repo.clearPreferred(trx, auth.orgId, line.item_id, productId);
      await repo.updateProduct(trx, auth.orgId, productId, values);
      return this.#product(trx, auth.orgId, vendorId, productId);
    });
  }

  /** Deletes the catalogue line itself: purchase orders keep their own copy of its SKU, text and cost. */
  async removeProduct(auth: AuthContext, vendorId: string, productId: string): Promise<void> {
    await withTenant(this.#db, auth.orgId, async (trx) => {
      if (!(await repo.vendorRow(trx, auth.orgId, vendorId, 'none'))) throw errors.notFound('Vendor');
      if (!(await repo.deleteProduct(trx, auth.orgId, vendorId, productId))) {
        throw errors.notFound('Catalogue line');
      }
    });
  }
}
