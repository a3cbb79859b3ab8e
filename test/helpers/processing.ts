import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { expect } from 'vitest';
import { isProcessingError, type ProcessingErrorCode } from '../../src/modules/files/processing/errors.ts';
import { tempDir } from './files.ts';
import { makePdf } from './pdf.ts';

/** test/fixtures/invoices/invoice2data/<name> (third-party files, shared with the invoice extraction tests: see test/fixtures/invoices/README.md). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/invoices/invoice2data/${name}`, import.meta.url));
}

/** The invoice number the invoice2data JSON beside a fixture expects. */
export async function expectedInvoiceNumber(name: string): Promise<string> {
  const [fields] = JSON.parse(await readFile(fixture(`${name}.json`), 'utf8')) as [
    { invoice_number: string },
  ];
  return fields.invoice_number;
}

let folder: Promise<string> | undefined;

/** Writes `data` to a file in a temporary folder removed after the test file. */
export async function writeTemp(name: string, data: Uint8Array | string): Promise<string> {
  folder ??= tempDir('fresh-choice-processing-');
  const file = path.join(await folder, name);
  await writeFile(file, data);
  return file;
}

export { makePdf };

/** A PDF whose pages are only the given images, each filling an A4 page: a scan. */
export function scannedPdf(images: Buffer[]): Promise<Buffer> {
  return makePdf({ autoFirstPage: false }, (document) => {
    for (const image of images) {
      document.addPage({ size: 'A4', margin: 0 });
      document.image(image, 0, 0, { fit: [document.page.width, document.page.height] });
    }
  });
}

/**
 * A PNG that declares `width` × `height` pixels in a file of a few dozen bytes: a decompression
 * bomb, refused from its header.
 */
export function pngBomb(width = 100_000, height = 100_000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(0, 9); // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const L_CODES = [
  '0001101',
  '0011001',
  '0010011',
  '0111101',
  '0100011',
  '0110001',
  '0101111',
  '0111011',
  '0110111',
  '0001011',
];
const R_CODES = L_CODES.map((code) => code.replace(/./g, (bit) => (bit === '0' ? '1' : '0')));
const G_CODES = R_CODES.map((code) => [...code].reverse().join(''));
const PARITY = [
  'LLLLLL',
  'LLGLGG',
  'LLGGLG',
  'LLGGGL',
  'LGLLGG',
  'LGGLLG',
  'LGGGLL',
  'LGLGLG',
  'LGLGGL',
  'LGGLGL',
];

/**
 * An EAN-13 drawn bar by bar from its 13 digits as given, check digit included and not checked:
 * barcode writers (bwip-js) refuse a wrong check digit, and a test needs one.
 */
export async function ean13Png(digits: string, moduleWidth = 3, barHeight = 90): Promise<Buffer> {
  const d = [...digits].map(Number);
  let modules = '101';
  for (let i = 0; i < 6; i++) modules += (PARITY[d[0]!]![i] === 'L' ? L_CODES : G_CODES)[d[i + 1]!];
  modules += '01010';
  for (let i = 7; i < 13; i++) modules += R_CODES[d[i]!];
  modules = '0'.repeat(11) + modules + '101' + '0'.repeat(11);
  const width = modules.length * moduleWidth;
  const pixels = Buffer.alloc(width * barHeight, 255);
  for (let x = 0; x < width; x++) {
    if (modules[Math.floor(x / moduleWidth)] !== '1') continue;
    for (let y = 0; y < barHeight; y++) pixels[y * width + x] = 0;
  }
  return sharp(pixels, { raw: { width, height: barHeight, channels: 1 } })
    .extend({ top: 20, bottom: 20, background: '#ffffff' })
    .png()
    .toBuffer();
}

/** Awaits `promise` and checks it rejects with a ProcessingError of `code`; returns the error. */
export async function expectProcessingError(promise: Promise<unknown>, code: ProcessingErrorCode) {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, `expected a ProcessingError ${code}`).toBeDefined();
  if (!isProcessingError(error)) throw error;
  expect(error.code).toBe(code);
  return error;
}
