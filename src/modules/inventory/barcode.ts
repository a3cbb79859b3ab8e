import { AppError, errors } from '../../platform/http/errors.ts';

export type BarcodeType = 'upc' | 'ean' | 'code128';
export type GtinFormat = 'UPC-A' | 'UPC-E' | 'EAN-8' | 'EAN-13';

export interface NormalisedBarcode {
  /** The code as a 14-digit GTIN: every form of one product's code gives the same value. */
  gtin: string;
  format: GtinFormat;
}

/** GS1 check digit over the data digits (weights 3,1,3,… from the right). */
export function gs1CheckDigit(data: string): number {
  let sum = 0;
  for (let index = 0; index < data.length; index++) {
    const digit = data.charCodeAt(data.length - 1 - index) - 48;
    sum += digit * (index % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** UPC-E (8 digits: number system, six digits, check) to its UPC-A form, check digit kept. */
export function expandUpcE(upce: string): string {
  const system = upce[0]!;
  const [d1, d2, d3, d4, d5, d6] = upce.slice(1, 7);
  const check = upce[7]!;
  let body: string;
  if (d6 === '0' || d6 === '1' || d6 === '2') body = `${d1}${d2}${d6}0000${d3}${d4}${d5}`;
  else if (d6 === '3') body = `${d1}${d2}${d3}00000${d4}${d5}`;
  else if (d6 === '4') body = `${d1}${d2}${d3}${d4}00000${d5}`;
  else body = `${d1}${d2}${d3}${d4}${d5}0000${d6}`;
  return `${system}${body}${check}`;
}

function invalid(message: string, details?: Record<string, unknown>): AppError {
  return new AppError(422, 'INVALID_BARCODE', message, details);
}

function verified(code: string, format: GtinFormat, checked = code): NormalisedBarcode {
  const expected = gs1CheckDigit(checked.slice(0, -1));
  const given = Number(checked.at(-1));
  if (expected !== given) {
    throw invalid(`Wrong check digit for ${format} ${code}: expected ${expected}, got ${given}`, {
      format,
      expectedCheckDigit: expected,
      givenCheckDigit: given,
    });
  }
  return { gtin: checked.padStart(14, '0'), format };
}

/**
 * Validates a UPC/EAN code and normalises it. `upc` takes UPC-A (12) and UPC-E (8); `ean` takes
 * EAN-13 and EAN-8, and also a 12-digit UPC-A (an EAN-13 with its leading 0 dropped). A UPC-A and
 * its EAN-13 form (leading 0) give the same GTIN.
 */
export function normaliseBarcode(raw: string, type: Exclude<BarcodeType, 'code128'>): NormalisedBarcode {
  const code = raw.trim();
  if (!/^\d+$/.test(code)) throw invalid(`A ${type.toUpperCase()} barcode has digits only`);
  if (type === 'upc') {
    if (code.length === 12) return verified(code, 'UPC-A');
    if (code.length === 8) {
      if (code[0] !== '0' && code[0] !== '1') throw invalid('A UPC-E code starts with number system 0 or 1');
      return verified(code, 'UPC-E', expandUpcE(code));
    }
    if (code.length === 13 && code.startsWith('0')) return verified(code, 'EAN-13');
    throw invalid('A UPC code has 12 digits (UPC-A) or 8 (UPC-E)');
  }
  if (code.length === 13) return verified(code, 'EAN-13');
  if (code.length === 8) return verified(code, 'EAN-8');
  if (code.length === 12) return verified(code, 'UPC-A');
  throw invalid('An EAN code has 13 digits (EAN-13) or 8 (EAN-8)');
}

/** Why an item's barcode was refused: the format it was read as and the check digit it needs. */
export interface BarcodeProblem {
  message: string;
  format: GtinFormat | 'GTIN-14';
  expectedCheckDigit: number;
  givenCheckDigit: number;
  /** An 8-digit code starting with 0 or 1 may also be meant as a UPC-E: the digit that would make it one. */
  upcECheckDigit?: number;
}

export type ItemBarcode = { code: string; gtin: string | null } | { code: string; problem: BarcodeProblem };

/**
 * An item's barcode field as it is written (create, update, import): the same rules the lookup
 * applies to a scan, so every code that is stored can be scanned. The text is trimmed. Digits of
 * a UPC/EAN/GTIN length (8, 12, 13, 14) are a GS1 code and their check digit must hold: 12 is
 * UPC-A, 13 EAN-13, 14 GTIN-14, and 8 is EAN-8 or, when it is not a valid one, UPC-E (what a
 * lookup of type ean or upc reads). Anything else (letters, a 4-digit PLU, an in-store code) is
 * kept as text with no GTIN: a code128 lookup, or a search, finds it by its exact text.
 */
export function itemBarcode(raw: string): ItemBarcode {
  const code = raw.trim();
  if (!/^\d+$/.test(code) || ![8, 12, 13, 14].includes(code.length)) return { code, gtin: null };
  if (code.length === 14) {
    const expected = gs1CheckDigit(code.slice(0, -1));
    const given = Number(code.at(-1));
    if (expected === given) return { code, gtin: code };
    return {
      code,
      problem: {
        message: `wrong check digit for GTIN-14 ${code}: expected ${expected}, got ${given}`,
        format: 'GTIN-14',
        expectedCheckDigit: expected,
        givenCheckDigit: given,
      },
    };
  }
  /** The code read as the lookup reads a scan of this type: its GTIN, or why the check failed. */
  const attempt = (type: 'upc' | 'ean'): string | AppError => {
    try {
      return normaliseBarcode(code, type).gtin;
    } catch (error) {
      if (error instanceof AppError) return error;
      throw error;
    }
  };
  // 12 digits are a UPC-A and 13 an EAN-13 either way; 8 are an EAN-8 (the common one on grocery
  // shelves), else a UPC-E.
  const first = attempt(code.length === 12 ? 'upc' : 'ean');
  if (typeof first === 'string') return { code, gtin: first };
  const upcE = code.length === 8 && (code[0] === '0' || code[0] === '1') ? attempt('upc') : undefined;
  if (typeof upcE === 'string') return { code, gtin: upcE };
  const details = first.details as {
    format: GtinFormat;
    expectedCheckDigit: number;
    givenCheckDigit: number;
  };
  const upcEDigit = (upcE?.details as { expectedCheckDigit?: number } | undefined)?.expectedCheckDigit;
  return {
    code,
    problem: {
      message:
        `wrong check digit for ${details.format} ${code}: expected ${details.expectedCheckDigit}, got ${details.givenCheckDigit}` +
        (upcEDigit === undefined ? '' : ` (or ${upcEDigit} if it is a UPC-E)`),
      format: details.format,
      expectedCheckDigit: details.expectedCheckDigit,
      givenCheckDigit: details.givenCheckDigit,
      ...(upcEDigit === undefined ? {} : { upcECheckDigit: upcEDigit }),
    },
  };
}

/**
 * The item's barcode columns for a write: the trimmed text and its GTIN. A UPC/EAN code whose
 * check digit is wrong is refused (400 naming the field and the digit it needs), because the
 * lookup would refuse the same code and the item could never be scanned.
 */
export function barcodeColumns(raw: string, field = 'itemUpc'): { item_upc: string; gtin: string | null } {
  const checked = itemBarcode(raw);
  if (checked.code === '') {
    throw errors.validation(`${field} must not be blank`, [{ field, message: 'must not be blank' }]);
  }
  if ('problem' in checked) {
    const { message, ...digits } = checked.problem;
    throw errors.validation(`${field}: ${message}`, [{ field, message, ...digits }]);
  }
  return { item_upc: checked.code, gtin: checked.gtin };
}

/** The GTIN an item's barcode is found by; null for in-store codes and for codes that do not check. */
export function gtinOf(itemUpc: string | null | undefined): string | null {
  if (!itemUpc) return null;
  const checked = itemBarcode(itemUpc);
  return 'gtin' in checked ? checked.gtin : null;
}
