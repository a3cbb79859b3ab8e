import { describe, expect, it } from 'vitest';
import { AppError } from '../../platform/http/errors.ts';
import {
  barcodeColumns,
  expandUpcE,
  gs1CheckDigit,
  gtinOf,
  itemBarcode,
  normaliseBarcode,
} from './barcode.ts';

describe('barcodes', () => {
  it('computes GS1 check digits', () => {
    expect(gs1CheckDigit('03600029145')).toBe(2); // UPC-A 036000291452
    expect(gs1CheckDigit('400638133393')).toBe(1); // EAN-13 4006381333931
    expect(gs1CheckDigit('9638507')).toBe(4); // EAN-8 96385074
  });

  it('normalises a UPC-A and its EAN-13 form to the same GTIN', () => {
    const upc = normaliseBarcode('036000291452', 'upc');
    const ean = normaliseBarcode('0036000291452', 'ean');
    expect(upc).toEqual({ gtin: '00036000291452', format: 'UPC-A' });
    expect(ean.gtin).toBe(upc.gtin);
    expect(normaliseBarcode('036000291452', 'ean').gtin).toBe(upc.gtin);
    expect(normaliseBarcode('0036000291452', 'upc').gtin).toBe(upc.gtin);
  });

  it.each([
    ['04252614', '042100005264'],
    ['01234505', '012000003455'], // last digit 0-2
    ['01234531', '012300000451'], // last digit 3
    ['01234543', '012340000053'], // last digit 4
    ['01234565', '012345000065'], // last digit 5-9
  ])('expands UPC-E %s to UPC-A %s', (upce, upca) => {
    expect(expandUpcE(upce)).toBe(upca);
    expect(normaliseBarcode(upce, 'upc').gtin).toBe(normaliseBarcode(upca, 'upc').gtin);
  });

  it('validates EAN-8 and EAN-13', () => {
    expect(normaliseBarcode('96385074', 'ean')).toEqual({ gtin: '00000096385074', format: 'EAN-8' });
    expect(normaliseBarcode('8076809570787', 'ean')).toEqual({ gtin: '08076809570787', format: 'EAN-13' });
  });

  it.each([
    ['036000291453', 'upc', 2],
    ['4006381333932', 'ean', 1],
    ['96385075', 'ean', 4],
    ['04252615', 'upc', 4],
  ] as const)('rejects %s (%s) with 422 naming the expected check digit %i', (code, type, expected) => {
    try {
      normaliseBarcode(code, type);
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(422);
      expect((error as AppError).details).toMatchObject({ expectedCheckDigit: expected });
      expect((error as AppError).message).toContain(`expected ${expected}`);
    }
  });

  it('rejects wrong lengths and non-digits', () => {
    expect(() => normaliseBarcode('12345', 'upc')).toThrow(/12 digits/);
    expect(() => normaliseBarcode('12345678901', 'ean')).toThrow(/13 digits/);
    expect(() => normaliseBarcode('03600029145X', 'upc')).toThrow(/digits only/);
  });

  it.each([
    ['036000291452', '00036000291452'], // UPC-A
    ['0036000291452', '00036000291452'], // its EAN-13 form
    ['8076809570787', '08076809570787'], // EAN-13
    ['96385074', '00000096385074'], // EAN-8
    ['04252614', '00042100005264'], // not an EAN-8, a UPC-E: its UPC-A's GTIN
    ['00036000291452', '00036000291452'], // GTIN-14
    [' 036000291452 ', '00036000291452'], // trimmed, as a scan is
  ])('stores the item barcode %j under the GTIN its lookup finds (%s)', (code, gtin) => {
    expect(itemBarcode(code)).toEqual({ code: code.trim(), gtin });
    expect(barcodeColumns(code)).toEqual({ item_upc: code.trim(), gtin });
  });

  it.each(['PLU-4011', '4011', '1234567890', 'ABC 12'])(
    'keeps in-store code %j as text, without a GTIN',
    (code) => {
      expect(itemBarcode(code)).toEqual({ code, gtin: null });
    },
  );

  it.each([
    ['036000291453', 'UPC-A', 2, undefined],
    ['4006381333932', 'EAN-13', 1, undefined],
    ['96385075', 'EAN-8', 4, undefined],
    ['04252615', 'EAN-8', 0, 4], // neither an EAN-8 (needs 0) nor a UPC-E (needs 4)
    ['00036000291453', 'GTIN-14', 2, undefined],
  ] as const)('refuses item barcode %s (%s) naming the check digit %i', (code, format, expected, upcE) => {
    const checked = itemBarcode(code);
    expect(checked).toMatchObject({
      code,
      problem: { format, expectedCheckDigit: expected, givenCheckDigit: Number(code.at(-1)) },
    });
    const problem = (checked as { problem: { message: string; upcECheckDigit?: number } }).problem;
    expect(problem.upcECheckDigit).toBe(upcE);
    expect(problem.message).toContain(`expected ${expected}`);
    try {
      barcodeColumns(code);
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
      expect((error as AppError).message).toContain(`itemUpc: wrong check digit for ${format} ${code}`);
      expect((error as AppError).details).toEqual([
        expect.objectContaining({ field: 'itemUpc', expectedCheckDigit: expected }),
      ]);
    }
  });

  it('refuses a blank item barcode rather than store an empty code', () => {
    expect(() => barcodeColumns('   ')).toThrow(/itemUpc must not be blank/);
  });

  it('derives a GTIN for stored codes only when valid', () => {
    expect(gtinOf('036000291452')).toBe('00036000291452');
    expect(gtinOf('0036000291452')).toBe('00036000291452');
    expect(gtinOf('036000291453')).toBeNull();
    expect(gtinOf('04252614')).toBe('00042100005264');
    expect(gtinOf('PLU-4011')).toBeNull();
    expect(gtinOf(null)).toBeNull();
  });
});
