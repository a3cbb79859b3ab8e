import { AppError } from '../../platform/http/errors.ts';

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

/**
 * Best-effort GTIN for a stored item's UPC field: null when the text is not a valid GTIN (in-store
 * codes, typos), so such items are still found by their exact text.
 */
export function gtinOf(itemUpc: string | null | undefined): string | null {
  if (!itemUpc) return null;
  const code = itemUpc.trim();
  if (!/^\d+$/.test(code)) return null;
  try {
    if (code.length === 8) {
      // An 8-digit code is EAN-8 or UPC-E; EAN-8 is the common one on grocery shelves.
      return normaliseBarcode(code, 'ean').gtin;
    }
    if (code.length === 12 || code.length === 13) return normaliseBarcode(code, 'ean').gtin;
    if (code.length === 14 && gs1CheckDigit(code.slice(0, -1)) === Number(code.at(-1))) return code;
  } catch {
    return null;
  }
  return null;
}
