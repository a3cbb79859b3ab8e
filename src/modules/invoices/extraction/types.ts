/**
 * What invoice extraction gives back. The library reads only the file's bytes (and optional
 * per-vendor hints): no database, no routes. Every field says how sure it is and where it came
 * from, so a reviewer (or a rule that auto-approves) can tell a value read from an e-invoice's XML
 * from one guessed off a scan.
 */

/** Where a value came from. */
export type FieldSource =
  /** An e-invoice's XML (CII/UBL/Factur-X) or a spreadsheet cell under a recognised header. */
  | 'structured'
  /** A PDF's text layer (or a plain-text file), found by its label or position. */
  | 'text'
  /** Text recognised from a scan or photo. */
  | 'ocr'
  /** The vendor's layout hints (a learned label, column order or a default such as its currency). */
  | 'hint';

export interface Field<T> {
  value: T;
  /** 0–1: how sure the extractor is. A failed check lowers it and says why in `issues`. */
  confidence: number;
  source: FieldSource;
  issues?: string[];
}

/** Header fields. Dates are ISO `YYYY-MM-DD`; amounts are numbers in the invoice's currency. */
export interface InvoiceHeader {
  invoiceNumber?: Field<string>;
  vendorName?: Field<string>;
  /** VAT / tax registration number of the vendor as printed, without spaces, dots or dashes. */
  vendorTaxId?: Field<string>;
  invoiceDate?: Field<string>;
  /** Printed, or the invoice date plus the payment terms (then `issues` says so). */
  dueDate?: Field<string>;
  /** Days of the payment terms, when printed ("payable within 30 days", "Net 30"). */
  paymentTermsDays?: Field<number>;
  /** ISO 4217 code. */
  currency?: Field<string>;
  /** Net amount before tax. */
  subtotal?: Field<number>;
  tax?: Field<number>;
  /** Amount due, tax included. */
  total?: Field<number>;
}

export type HeaderFieldName = keyof InvoiceHeader;

export interface InvoiceLine {
  description?: Field<string>;
  quantity?: Field<number>;
  /** As printed ("kg", "PCS") or the UN/ECE Rec. 20 code of an e-invoice ("KGM", "H87"). */
  unit?: Field<string>;
  unitCost?: Field<number>;
  lineTotal?: Field<number>;
  /** UPC/EAN/GTIN digits, check digit included. */
  gtin?: Field<string>;
  vendorSku?: Field<string>;
  /** Percent, when printed per line. */
  taxRate?: Field<number>;
  /** Percent off the unit cost, when printed per line. */
  discountPercent?: Field<number>;
  /** The item this vendor SKU was mapped to before (from the hints' `skuItems`). */
  itemId?: Field<string>;
}

export type LineFieldName = keyof InvoiceLine;

export interface Check {
  /** `line_arithmetic` (per line: quantity × unit cost ≈ line total), `lines_sum`, `header_sum`. */
  name: string;
  passed: boolean;
  expected?: number;
  actual?: number;
  /** Index in `lines`, for a line check. */
  line?: number;
  message: string;
}

export type InvoiceFormat =
  /** A PDF read from its text layer. */
  | 'pdf'
  /** A PDF without a text layer, OCR'd. */
  | 'pdf-ocr'
  | 'image'
  /** A PDF carrying its CII XML as an attachment (ZUGFeRD / Factur-X). */
  | 'facturx'
  /** UN/CEFACT Cross Industry Invoice XML (XRechnung CII, Factur-X XML). */
  | 'cii'
  /** OASIS UBL 2.x Invoice or CreditNote XML (XRechnung UBL, Peppol BIS). */
  | 'ubl'
  | 'csv'
  | 'xlsx'
  /** A plain-text file laid out with spaces. */
  | 'text';

/** One invoice found in the file. */
export interface ExtractedInvoice {
  header: InvoiceHeader;
  lines: InvoiceLine[];
  checks: Check[];
  warnings: string[];
}

/** A cell of text on a page (or a spreadsheet/text line), in points from the page's top left. */
export interface LayoutCell {
  x0: number;
  x1: number;
  text: string;
}

export interface LayoutRow {
  /** 1-based. */
  page: number;
  /** Top of the row. */
  y: number;
  /** Text height. */
  height: number;
  cells: LayoutCell[];
}

export interface ExtractionResult extends ExtractedInvoice {
  format: InvoiceFormat;
  /** Pages read (1 for XML, text and spreadsheet files). */
  pages: number;
  /**
   * Every invoice in the file, the first being the one the top-level fields describe. A supplier
   * portal's export (CSV/XLSX) can hold many, one per invoice number; a PDF or XML holds one.
   */
  invoices: ExtractedInvoice[];
  /** The rows read off the pages (text formats only): what `learnHints` finds labels in. */
  layout?: LayoutRow[];
  /** Column roles of the line table, left to right, as found (text formats only). */
  lineColumns?: LineColumnRole[];
}

export type LineColumnRole =
  | 'position'
  | 'sku'
  | 'gtin'
  | 'description'
  | 'quantity'
  | 'unit'
  | 'unitCost'
  | 'discount'
  | 'taxRate'
  | 'lineTotal'
  | 'other';

/** Why a file gave no invoice. Stable: the lead's job stores it and the UI words it. */
export type ExtractionFailureCode =
  | 'unsupported_format'
  | 'corrupt_file'
  | 'encrypted_pdf'
  | 'no_pages'
  | 'too_many_pages'
  | 'image_too_large'
  | 'no_text'
  | 'no_header_row'
  | 'no_invoice_data';

/** Thrown by extractInvoice. The message tells a store manager what to do about it. */
export class ExtractionFailure extends Error {
  override name = 'ExtractionFailure';
  readonly code: ExtractionFailureCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ExtractionFailureCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

export function isExtractionFailure(
  error: unknown,
  code?: ExtractionFailureCode,
): error is ExtractionFailure {
  return error instanceof ExtractionFailure && (code === undefined || error.code === code);
}

/**
 * What is known about one vendor's invoices, learned from corrections (learnHints) and stored by
 * the caller per vendor. Every part is optional; given hints are tried before the generic rules.
 */
export interface VendorLayoutHints {
  /** Labels this vendor prints before a header field ("Beleg-Nr.", "Doc #"), tried first. */
  labels?: Partial<Record<HeaderFieldName, string[]>>;
  /** The roles of its line table's columns, left to right. Overrides the header labels. */
  lineColumns?: LineColumnRole[];
  /** How it writes dates whose day and month are both ≤ 12 (03/04/2026). */
  dateOrder?: 'DMY' | 'MDY' | 'YMD';
  /** Its decimal separator, for amounts like 1,234 that could be either. */
  decimalSeparator?: ',' | '.';
  /** Used when the invoice does not print a currency. */
  currency?: string;
  /** Used for the due date when the invoice prints neither a due date nor terms. */
  paymentTermsDays?: number;
  vendorName?: string;
  vendorTaxId?: string;
  /** Vendor SKU → item id, from lines a person mapped: such lines get `itemId`. */
  skuItems?: Record<string, string>;
}

export interface ExtractInput {
  bytes: Uint8Array;
  fileName?: string;
  mediaType?: string;
}

export interface ExtractOptions {
  hints?: VendorLayoutHints;
  /** A PDF or TIFF with more pages is refused (too_many_pages). Default 50. */
  maxPages?: number;
  /** OCR scans and images; when false they fail with no_text. Default true. */
  ocr?: boolean;
  /** Ends a running OCR. */
  signal?: AbortSignal;
}
