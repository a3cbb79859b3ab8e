import { XMLParser } from 'fast-xml-parser';
import { normaliseTaxId, parseDate } from './normalise.ts';
import {
  ExtractionFailure,
  type ExtractedInvoice,
  type Field,
  type InvoiceHeader,
  type InvoiceLine,
} from './types.ts';

/**
 * E-invoices read field by field from their XML: UN/CEFACT CII (XRechnung CII, ZUGFeRD 2.x /
 * Factur-X, whose PDF carries the same XML) and OASIS UBL 2.x (XRechnung UBL, Peppol BIS), mapped
 * to the EN 16931 semantic model's business terms (BT-1 invoice number, BT-2 issue date, …).
 * Values are taken as written: nothing is guessed, so every field has confidence 1 unless the
 * document contradicts itself (checks).
 */
export function readEInvoice(xml: string, kind: 'cii' | 'ubl'): ExtractedInvoice {
  const parser = new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    // Keep every value a string: "0012" is an id, not 12; amounts are parsed below.
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
    // No entity expansion from a DOCTYPE: an uploaded file must not be able to blow up.
    htmlEntities: false,
  });
  let document: Record<string, unknown>;
  try {
    document = parser.parse(xml, true) as Record<string, unknown>;
  } catch (error) {
    throw new ExtractionFailure(
      'corrupt_file',
      'The e-invoice XML is not well-formed: ask the vendor to send it again.',
      { reason: error instanceof Error ? error.message : String(error) },
      { cause: error },
    );
  }
  const invoice: ExtractedInvoice = kind === 'cii' ? readCii(document) : readUbl(document);
  if (!invoice.header.invoiceNumber && !invoice.header.total && !invoice.lines.length) {
    throw new ExtractionFailure(
      'no_invoice_data',
      'The e-invoice holds no invoice number, total or lines: ask the vendor for a complete e-invoice.',
    );
  }
  invoice.lines = invoice.lines.filter((line) => {
    // Section titles and notes some systems write as lines: no quantity, price or amount.
    const empty = !line.quantity?.value && !line.unitCost?.value && !line.lineTotal?.value;
    if (empty && line.description)
      invoice.warnings.push(`Skipped a line without quantity or amount: "${line.description.value}"`);
    return !empty;
  });
  return invoice;
}

/**
 * The unit cost from BT-146 and its base quantity BT-149. Some systems put the line's quantity in
 * the base quantity while the price is per unit: when quantity × price is the line total, that
 * reading wins (and says so).
 */
function unitCost(
  price: number | undefined,
  basis: number,
  quantity: number | undefined,
  total: number | undefined,
): Field<number> | undefined {
  if (price === undefined) return undefined;
  // toPrecision: 9.60 / 12 is 0.7999999999999999 in binary floating point.
  const perBasis = Number((price / basis).toPrecision(12));
  if (basis !== 1 && quantity !== undefined && total !== undefined) {
    const close = (a: number, b: number) => Math.abs(a - b) <= 0.01;
    if (!close(quantity * perBasis, total) && close(quantity * price, total)) {
      return {
        value: price,
        confidence: 0.9,
        source: 'structured',
        issues: [
          `The price is given per ${basis} units, but the line total is quantity × price: read as the price of one unit`,
        ],
      };
    }
  }
  return { value: perBasis, confidence: 1, source: 'structured' };
}

type Node = Record<string, unknown>;

/** The child at the path; arrays are followed through their first element. */
function at(node: unknown, ...path: string[]): unknown {
  let current = node;
  for (const key of path) {
    if (Array.isArray(current)) current = current[0];
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Node)[key];
  }
  return current;
}

function all(node: unknown, ...path: string[]): unknown[] {
  const value = at(node, ...path);
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function text(node: unknown): string | undefined {
  if (Array.isArray(node)) return text(node[0]);
  if (node === undefined || node === null) return undefined;
  if (typeof node === 'object') {
    const inner = (node as Node)['#text'] as string | number | undefined;
    return inner === undefined ? undefined : String(inner).trim() || undefined;
  }
  if (typeof node !== 'string' && typeof node !== 'number' && typeof node !== 'boolean') return undefined;
  return String(node).trim() || undefined;
}

function attribute(node: unknown, name: string): string | undefined {
  if (Array.isArray(node)) return attribute(node[0], name);
  return node && typeof node === 'object' ? text((node as Node)[`@${name}`]) : undefined;
}

function amount(node: unknown): number | undefined {
  const raw = text(node);
  if (raw === undefined || !/^[-+]?\d+(\.\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}

const exact = <T>(value: T | undefined): Field<T> | undefined =>
  value === undefined || value === '' ? undefined : { value, confidence: 1, source: 'structured' };

/** CII dates are format 102 (YYYYMMDD) in DateTimeString; other formats are read leniently. */
function ciiDate(node: unknown): string | undefined {
  const raw = text(at(node, 'DateTimeString')) ?? text(node);
  if (!raw) return undefined;
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(raw);
  return compact ? `${compact[1]}-${compact[2]}-${compact[3]}` : parseDate(raw, 'YMD')?.value;
}

function readCii(document: Node): ExtractedInvoice {
  const root = at(document, 'CrossIndustryInvoice');
  const transaction = at(root, 'SupplyChainTradeTransaction');
  const agreement = at(transaction, 'ApplicableHeaderTradeAgreement');
  const settlement = at(transaction, 'ApplicableHeaderTradeSettlement');
  const seller = at(agreement, 'SellerTradeParty');
  const sums = at(settlement, 'SpecifiedTradeSettlementHeaderMonetarySummation');
  const currency = text(at(settlement, 'InvoiceCurrencyCode'));
  // BT-110 may be given twice (in the invoice currency and in the accounting currency).
  const taxTotals = all(sums, 'TaxTotalAmount');
  const taxNode = taxTotals.find((node) => attribute(node, 'currencyID') === currency) ?? taxTotals[0];
  const taxIds = all(seller, 'SpecifiedTaxRegistration');
  const vat = taxIds.find((node) => attribute(at(node, 'ID'), 'schemeID') === 'VA') ?? taxIds[0];

  const header: InvoiceHeader = {};
  assign(header, {
    invoiceNumber: exact(text(at(root, 'ExchangedDocument', 'ID'))),
    invoiceDate: exact(ciiDate(at(root, 'ExchangedDocument', 'IssueDateTime'))),
    dueDate: exact(ciiDate(at(settlement, 'SpecifiedTradePaymentTerms', 'DueDateDateTime'))),
    vendorName: exact(text(at(seller, 'Name'))),
    vendorTaxId: exact(text(at(vat, 'ID')) && normaliseTaxId(text(at(vat, 'ID'))!)),
    currency: exact(currency),
    subtotal: exact(amount(at(sums, 'TaxBasisTotalAmount')) ?? amount(at(sums, 'LineTotalAmount'))),
    tax: exact(amount(taxNode)),
    total: exact(amount(at(sums, 'GrandTotalAmount')) ?? amount(at(sums, 'DuePayableAmount'))),
  });
  const lines = all(transaction, 'IncludedSupplyChainTradeLineItem').map((item): InvoiceLine => {
    const product = at(item, 'SpecifiedTradeProduct');
    const quantityNode = at(item, 'SpecifiedLineTradeDelivery', 'BilledQuantity');
    const priceNode = at(item, 'SpecifiedLineTradeAgreement', 'NetPriceProductTradePrice');
    const basis = amount(at(priceNode, 'BasisQuantity')) ?? 1;
    const price = amount(at(priceNode, 'ChargeAmount'));
    const globalId = at(product, 'GlobalID');
    const line: InvoiceLine = {};
    assign(line, {
      description: exact(text(at(product, 'Name')) ?? text(at(product, 'Description'))),
      quantity: exact(amount(quantityNode)),
      unit: exact(attribute(quantityNode, 'unitCode')),
      // BT-146 is the price of BT-149 units.
      unitCost: unitCost(
        price,
        basis,
        amount(quantityNode),
        amount(
          at(
            item,
            'SpecifiedLineTradeSettlement',
            'SpecifiedTradeSettlementLineMonetarySummation',
            'LineTotalAmount',
          ),
        ),
      ),
      lineTotal: exact(
        amount(
          at(
            item,
            'SpecifiedLineTradeSettlement',
            'SpecifiedTradeSettlementLineMonetarySummation',
            'LineTotalAmount',
          ),
        ),
      ),
      // Scheme 0160 is GS1's GTIN.
      gtin: exact(
        attribute(globalId, 'schemeID') === '0160' || !attribute(globalId, 'schemeID')
          ? text(globalId)
          : undefined,
      ),
      vendorSku: exact(text(at(product, 'SellerAssignedID'))),
      taxRate: exact(
        amount(at(item, 'SpecifiedLineTradeSettlement', 'ApplicableTradeTax', 'RateApplicablePercent')),
      ),
    });
    return line;
  });
  return { header, lines, checks: [], warnings: [] };
}

function readUbl(document: Node): ExtractedInvoice {
  const isCredit = 'CreditNote' in document;
  const root = at(document, isCredit ? 'CreditNote' : 'Invoice');
  const supplier = at(root, 'AccountingSupplierParty', 'Party');
  const totals = at(root, 'LegalMonetaryTotal');
  const currency = text(at(root, 'DocumentCurrencyCode'));
  const taxTotals = all(root, 'TaxTotal');
  const taxTotal =
    taxTotals.find((node) => attribute(at(node, 'TaxAmount'), 'currencyID') === currency) ?? taxTotals[0];
  const taxSchemes = all(supplier, 'PartyTaxScheme');
  const vat = taxSchemes.find((node) => text(at(node, 'TaxScheme', 'ID')) === 'VAT') ?? taxSchemes[0];
  const vatId = text(at(vat, 'CompanyID'));
  const header: InvoiceHeader = {};
  assign(header, {
    invoiceNumber: exact(text(at(root, 'ID'))),
    invoiceDate: exact(text(at(root, 'IssueDate'))),
    dueDate: exact(text(at(root, 'DueDate')) ?? text(at(root, 'PaymentMeans', 'PaymentDueDate'))),
    vendorName: exact(
      text(at(supplier, 'PartyName', 'Name')) ?? text(at(supplier, 'PartyLegalEntity', 'RegistrationName')),
    ),
    vendorTaxId: exact(vatId && normaliseTaxId(vatId)),
    currency: exact(currency),
    subtotal: exact(amount(at(totals, 'TaxExclusiveAmount')) ?? amount(at(totals, 'LineExtensionAmount'))),
    tax: exact(amount(at(taxTotal, 'TaxAmount'))),
    total: exact(amount(at(totals, 'TaxInclusiveAmount')) ?? amount(at(totals, 'PayableAmount'))),
  });
  const lines = all(root, isCredit ? 'CreditNoteLine' : 'InvoiceLine').map((item): InvoiceLine => {
    const quantityNode = at(item, isCredit ? 'CreditedQuantity' : 'InvoicedQuantity');
    const itemNode = at(item, 'Item');
    const price = amount(at(item, 'Price', 'PriceAmount'));
    const basis = amount(at(item, 'Price', 'BaseQuantity')) ?? 1;
    const standard = at(itemNode, 'StandardItemIdentification', 'ID');
    const line: InvoiceLine = {};
    assign(line, {
      description: exact(text(at(itemNode, 'Name')) ?? text(at(itemNode, 'Description'))),
      quantity: exact(amount(quantityNode)),
      unit: exact(attribute(quantityNode, 'unitCode')),
      unitCost: unitCost(price, basis, amount(quantityNode), amount(at(item, 'LineExtensionAmount'))),
      lineTotal: exact(amount(at(item, 'LineExtensionAmount'))),
      gtin: exact(
        attribute(standard, 'schemeID') === '0160' || !attribute(standard, 'schemeID')
          ? text(standard)
          : undefined,
      ),
      vendorSku: exact(text(at(itemNode, 'SellersItemIdentification', 'ID'))),
      taxRate: exact(amount(at(itemNode, 'ClassifiedTaxCategory', 'Percent'))),
    });
    return line;
  });
  return { header, lines, checks: [], warnings: [] };
}

/** Sets the defined fields only, so absent ones stay absent rather than `undefined`. */
function assign<T extends object>(target: T, fields: { [K in keyof T]?: T[K] | undefined }): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}
