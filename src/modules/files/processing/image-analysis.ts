import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type * as ZXingReaderModule from 'zxing-wasm/reader';
import type { ReadResult, ReaderOptions } from 'zxing-wasm/reader';
import { AppError } from '../../../platform/http/errors.ts';
import { normaliseBarcode } from '../../inventory/barcode.ts';
import { checkFile, imageError, loadSharp, readImageHeader, storableText } from './input.ts';
import { ANALYSIS_MAX_SIDE, MAX_INPUT_PIXELS } from './limits.ts';

export type BarcodeFormat = 'EAN-13' | 'EAN-8' | 'UPC-A' | 'UPC-E' | 'Code128' | 'QRCode';

/** zxing-cpp's names for the formats looked for, and ours. */
const FORMATS = {
  EAN13: 'EAN-13',
  EAN8: 'EAN-8',
  UPCA: 'UPC-A',
  UPCE: 'UPC-E',
  Code128: 'Code128',
  QRCode: 'QRCode',
} as const satisfies Record<string, BarcodeFormat>;

/** The GS1 codes, and how barcode.ts reads each. */
const GTIN_FORMATS: Partial<Record<BarcodeFormat, 'ean' | 'upc'>> = {
  'EAN-13': 'ean',
  'EAN-8': 'ean',
  'UPC-A': 'upc',
  'UPC-E': 'upc',
};

export interface FoundBarcode {
  format: BarcodeFormat;
  /** The decoded content (digits for EAN/UPC). */
  text: string;
  /**
   * Whether the code checks: an EAN/UPC's check digit by our barcode.ts rules (a symbol with a
   * wrong check digit is still reported, with `valid: false` and `error`); other formats carry
   * their own error correction and are valid when decoded.
   */
  valid: boolean;
  /** The EAN/UPC as the 14-digit GTIN inventory stores and looks items up by, when valid. */
  normalisedGtin?: string;
  /** Why an EAN/UPC is not valid (barcode.ts's message, naming the expected digit). */
  error?: string;
}

export interface ImageAnalysis {
  /** As displayed (after EXIF orientation). */
  width: number;
  height: number;
  /** sharp's name for the file's format: jpeg, png, webp, gif, tiff, heif, … */
  format: string;
  barcodes: FoundBarcode[];
}

export interface AnalyseImageOptions {
  /** Largest image decoded, in pixels (width × height); default MAX_INPUT_PIXELS. */
  maxInputPixels?: number;
  /** Most barcodes reported; default 20. */
  maxBarcodes?: number;
}

type ZXingReader = typeof ZXingReaderModule;
let zxingModule: Promise<ZXingReader> | undefined;

/**
 * zxing-cpp's reader, with its WASM binary read from node_modules: by default zxing-wasm fetches
 * it from a CDN. Loaded on first use.
 */
function loadZXing(): Promise<ZXingReader> {
  zxingModule ??= (async () => {
    const zxing = await import('zxing-wasm/reader');
    const wasm = await readFile(fileURLToPath(import.meta.resolve('zxing-wasm/reader/zxing_reader.wasm')));
    const wasmBinary = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength);
    await zxing.prepareZXingModule({ overrides: { wasmBinary }, fireImmediately: true });
    return zxing;
  })();
  zxingModule.catch(() => {
    zxingModule = undefined;
  });
  return zxingModule;
}

/**
 * An image's size and format and the barcodes in it (EAN-13, EAN-8, UPC-A, UPC-E, Code 128, QR),
 * each EAN/UPC checked with inventory's barcode rules. Reads the first page or frame; photos
 * larger than 4096 px on a side are scaled down to it before decoding. Errors: ProcessingError
 * CORRUPT_FILE (not an image sharp reads, a PDF included), IMAGE_TOO_LARGE.
 */
export async function analyseImage(
  inputPath: string,
  options: AnalyseImageOptions = {},
): Promise<ImageAnalysis> {
  const maxInputPixels = options.maxInputPixels ?? MAX_INPUT_PIXELS;
  await checkFile(inputPath);
  const header = await readImageHeader(inputPath, maxInputPixels);
  const sharp = await loadSharp();
  let pixels: { data: Buffer; info: { width: number; height: number } };
  try {
    pixels = await sharp(inputPath, { limitInputPixels: maxInputPixels })
      .autoOrient()
      .resize(ANALYSIS_MAX_SIDE, ANALYSIS_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      // Transparent pixels are black underneath: a barcode on a transparent PNG would vanish.
      .flatten({ background: '#ffffff' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw imageError(error);
  }

  const zxing = await loadZXing();
  const readerOptions: ReaderOptions = {
    formats: Object.keys(FORMATS) as ReaderOptions['formats'],
    tryHarder: true,
    tryRotate: true,
    tryInvert: true,
    tryDownscale: true,
    maxNumberOfSymbols: options.maxBarcodes ?? 20,
    // Symbols that decode but fail their checksum are returned too, so a wrong EAN/UPC check digit
    // is reported (valid: false) instead of the barcode seeming absent.
    returnErrors: true,
  };
  const { data, info } = pixels;
  const results = await zxing.readBarcodes(
    {
      data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      colorSpace: 'srgb',
    },
    readerOptions,
  );

  return {
    width: header.orientedWidth,
    height: header.orientedHeight,
    format: header.format,
    barcodes: results.flatMap((result) => {
      const found = toFoundBarcode(result);
      return found ? [found] : [];
    }),
  };
}

function toFoundBarcode(result: ReadResult): FoundBarcode | undefined {
  let format: BarcodeFormat | undefined = FORMATS[result.format as keyof typeof FORMATS];
  if (!format) return undefined;
  const gtinType = GTIN_FORMATS[format];
  // Any other decoding error (format, unsupported) leaves no trustworthy text.
  if (result.error && !(gtinType && result.error.startsWith('ChecksumError'))) return undefined;
  let text = storableText(result.text);
  if (!gtinType) return { format, text, valid: result.isValid };

  // zxing-cpp gives every EAN/UPC as 13 digits. A UPC-A and an EAN-13 starting with 0 are the same
  // bars: report the 12 digits printed under a UPC-A, and a UPC-E's own 8 digits.
  if ((format === 'EAN-13' || format === 'UPC-A') && /^0\d{12}$/.test(text)) {
    format = 'UPC-A';
    text = text.slice(1);
  } else if (format === 'UPC-E') {
    const upcE = upcEDigits(result.extra);
    if (upcE) text = upcE;
  }
  try {
    return { format, text, valid: true, normalisedGtin: normaliseBarcode(text, gtinType).gtin };
  } catch (error) {
    if (error instanceof AppError) return { format, text, valid: false, error: error.message };
    throw error;
  }
}

/** A UPC-E's 8 digits, from zxing-cpp's `extra` JSON (`{"UPCE":"04252614"}`). */
function upcEDigits(extra: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(extra);
    const digits = (parsed as { UPCE?: unknown } | null)?.UPCE;
    return typeof digits === 'string' && /^\d{8}$/.test(digits) ? digits : undefined;
  } catch {
    return undefined;
  }
}
