import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectedInvoiceNumber,
  expectProcessingError,
  fixture,
  makePdf,
  pngBomb,
  scannedPdf,
  writeTemp,
} from '../../../../test/helpers/processing.ts';
import { extractText } from './ocr.ts';

// OCR runs at about 2-4 s a page on the CI machine (two shared cores); the tests OCR a few
// full pages and otherwise small crops of the scanned receipt.

/** Crops of oyo.png: "Booking ID IBZY2087 …" and "GSTIN … CIN …". */
let bookingCrop: Buffer;
let gstinCrop: Buffer;

beforeAll(async () => {
  bookingCrop = await sharp(fixture('oyo.png'))
    .extract({ left: 1500, top: 680, width: 800, height: 130 })
    .png()
    .toBuffer();
  gstinCrop = await sharp(fixture('oyo.png'))
    .extract({ left: 200, top: 2800, width: 2000, height: 180 })
    .png()
    .toBuffer();
});

describe('extractText from a text layer', () => {
  it.each(['oyo', 'SammyMaystoneLinesTest'])(
    "reads %s.pdf's text layer and finds its invoice number, without OCR",
    async (name) => {
      const result = await extractText(fixture(`${name}.pdf`), 'application/pdf');
      expect(result.method).toBe('text-layer');
      expect(result.pages).toBe(1);
      expect(result.pageTexts).toEqual([{ page: 1, method: 'text-layer', text: result.text }]);
      expect(result.text).toContain(await expectedInvoiceNumber(name));
    },
  );

  it('keeps the pages apart and in order', async () => {
    const pdf = await makePdf({ autoFirstPage: false }, (document) => {
      for (const n of [1, 2, 3])
        document.addPage().text(`This is page number ${n} of the delivery note for store 42.`);
    });
    const result = await extractText(await writeTemp('three-pages.pdf', pdf), 'application/pdf');
    expect(result).toMatchObject({ pages: 3, method: 'text-layer' });
    expect(result.pageTexts.map((page) => page.page)).toEqual([1, 2, 3]);
    expect(result.pageTexts[1]!.text).toBe('This is page number 2 of the delivery note for store 42.');
    expect(result.text.indexOf('page number 1')).toBeLessThan(result.text.indexOf('page number 3'));
  });
});

describe('extractText by OCR', () => {
  it('OCRs a PNG scan and finds its invoice number', async () => {
    const started = performance.now();
    const result = await extractText(fixture('oyo.png'), 'image/png');
    console.info(`OCR of oyo.png (2892 × 4093): ${Math.round(performance.now() - started)} ms`);
    expect(result).toMatchObject({ method: 'ocr', pages: 1 });
    expect(result.text).toContain(await expectedInvoiceNumber('oyo'));
    expect(result.text).toMatch(/PAYMENT RECEIPT/);
    expect(result.pageTexts[0]!.confidence).toBeGreaterThan(80);
  });

  it('renders and OCRs a scanned PDF, which has no text layer', async () => {
    const pdf = await scannedPdf([await readFile(fixture('oyo.png'))]);
    const file = await writeTemp('scanned.pdf', pdf);
    const started = performance.now();
    const result = await extractText(file, 'application/pdf');
    console.info(`Render + OCR of a scanned A4 page: ${Math.round(performance.now() - started)} ms`);
    expect(result).toMatchObject({ method: 'ocr', pages: 1 });
    expect(result.text).toContain(await expectedInvoiceNumber('oyo'));
  });

  it('reads a mixed PDF page by page: the text layer where there is one, OCR where not', async () => {
    const pdf = await makePdf({ autoFirstPage: false }, (document) => {
      document.addPage().text('Delivery note 7731 from Green Valley Farms, page one of two.');
      // 800 px wide at 300 DPI, the resolution pages are rendered at for OCR.
      document.addPage({ margin: 0 }).image(bookingCrop, 50, 50, { width: (800 * 72) / 300 });
    });
    const result = await extractText(await writeTemp('mixed.pdf', pdf), 'application/pdf');
    expect(result.method).toBe('ocr');
    expect(result.pageTexts.map((page) => page.method)).toEqual(['text-layer', 'ocr']);
    expect(result.pageTexts[0]!.text).toContain('Green Valley Farms');
    expect(result.pageTexts[1]!.text).toContain('IBZY2087');
  });

  it('OCRs a JPEG, and every page of a TIFF', async () => {
    const jpeg = await writeTemp('booking.jpg', await sharp(bookingCrop).jpeg({ quality: 90 }).toBuffer());
    expect((await extractText(jpeg, 'image/jpeg')).text).toContain('IBZY2087');

    // A TIFF's pages here have one size: the booking crop (800 × 130) padded to the other's.
    const padded = await sharp(bookingCrop)
      .extend({ right: 1200, bottom: 50, background: '#ffffff' })
      .png()
      .toBuffer();
    const tiff = await sharp([padded, gstinCrop], { join: { animated: true } })
      .tiff()
      .toBuffer();
    const result = await extractText(await writeTemp('two-pages.tiff', tiff), 'image/tiff');
    expect(result.pages).toBe(2);
    expect(result.pageTexts[0]!.text).toContain('IBZY2087');
    expect(result.pageTexts[1]!.text).toContain('GSTIN');
  });

  it('gives empty text for an image without any', async () => {
    const blank = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const result = await extractText(await writeTemp('blank.png', blank), 'image/png');
    expect(result).toEqual({
      text: '',
      pages: 1,
      method: 'ocr',
      pageTexts: [{ page: 1, method: 'ocr', text: '', confidence: expect.any(Number) }],
    });
  });

  it('runs one OCR at a time: concurrent calls wait their turn and all finish', async () => {
    const file = await writeTemp('booking.png', bookingCrop);
    const results = await Promise.all([1, 2, 3].map(() => extractText(file, 'image/png')));
    for (const result of results) expect(result.text).toContain('IBZY2087');
  });

  it('stops when aborted, ending the OCR under way, and the next call still runs', async () => {
    const controller = new AbortController();
    const running = extractText(fixture('oyo.png'), 'image/png', { signal: controller.signal });
    // By 1.5 s the worker is usually recognising the page, which takes 3 s or more.
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort(new Error('job cancelled'));
    }, 1500);
    await expect(running).rejects.toThrow('job cancelled');
    expect(performance.now() - abortedAt).toBeLessThan(1000);

    await expect(
      extractText(fixture('oyo.png'), 'image/png', { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });

    const file = await writeTemp('after-abort.png', bookingCrop);
    expect((await extractText(file, 'image/png')).text).toContain('IBZY2087');
  });

  it.skipIf(spawnSync('unshare', ['--net', 'true']).status !== 0)(
    'needs no network: trained data and WASM come from node_modules',
    async () => {
      const file = await writeTemp('offline.png', bookingCrop);
      const script = `
        const { extractText } = await import(${JSON.stringify(new URL('./ocr.ts', import.meta.url).href)});
        const result = await extractText(${JSON.stringify(file)}, 'image/png');
        console.log(JSON.stringify(result.text));
      `;
      // A new network namespace has only a loopback interface, and it is down.
      const child = spawnSync('unshare', ['--net', process.execPath, '--input-type=module', '-e', script], {
        encoding: 'utf8',
        cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
        timeout: 60_000,
      });
      expect(child.status, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout)).toContain('IBZY2087');
    },
  );
});

describe('extractText refuses', () => {
  it('a type it does not read', async () => {
    const file = await writeTemp('animation.gif', await sharp(bookingCrop).gif().toBuffer());
    await expectProcessingError(extractText(file, 'image/gif'), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('a language without trained data, before reading the file', async () => {
    const error = await expectProcessingError(
      extractText(fixture('oyo.png'), 'image/png', { language: 'fra' }),
      'UNSUPPORTED_LANGUAGE',
    );
    expect(error.message).toContain('@tesseract.js-data/fra');
    await expectProcessingError(
      extractText(fixture('oyo.png'), 'image/png', { language: 'eng+fra' }),
      'UNSUPPORTED_LANGUAGE',
    );
    await expectProcessingError(
      extractText(fixture('oyo.png'), 'image/png', { language: '../../etc' }),
      'UNSUPPORTED_LANGUAGE',
    );
  });

  it('a PDF that needs a password', async () => {
    const pdf = await makePdf({ userPassword: 'secret' }, (document) => document.text('Locked'));
    await expectProcessingError(
      extractText(await writeTemp('locked.pdf', pdf), 'application/pdf'),
      'PDF_ENCRYPTED',
    );
  });

  it('a PDF without pages', async () => {
    const pdf = await makePdf({ autoFirstPage: false });
    await expectProcessingError(
      extractText(await writeTemp('no-pages.pdf', pdf), 'application/pdf'),
      'EMPTY_DOCUMENT',
    );
  });

  it('a damaged PDF, and a file that is no PDF at all', async () => {
    const pdf = await readFile(fixture('oyo.pdf'));
    await expectProcessingError(
      extractText(await writeTemp('damaged.pdf', pdf.subarray(0, 3000)), 'application/pdf'),
      'CORRUPT_FILE',
    );
    await expectProcessingError(
      extractText(await writeTemp('not.pdf', 'just some text'), 'application/pdf'),
      'CORRUPT_FILE',
    );
  });

  it('a damaged image', async () => {
    const png = await readFile(fixture('oyo.png'));
    await expectProcessingError(
      extractText(await writeTemp('truncated.png', png.subarray(0, 5000)), 'image/png'),
      'CORRUPT_FILE',
    );
  });

  it('more pages than allowed, before reading any', async () => {
    const pdf = await makePdf({ autoFirstPage: false }, (document) => {
      for (const n of [1, 2, 3]) document.addPage().text(`Page ${n}`);
    });
    const error = await expectProcessingError(
      extractText(await writeTemp('long.pdf', pdf), 'application/pdf', { maxPages: 2 }),
      'PAGE_LIMIT_EXCEEDED',
    );
    expect(error.details).toEqual({ pages: 3, maxPages: 2 });

    const tiff = await sharp([bookingCrop, bookingCrop, bookingCrop], { join: { animated: true } })
      .tiff()
      .toBuffer();
    await expectProcessingError(
      extractText(await writeTemp('long.tiff', tiff), 'image/tiff', { maxPages: 2 }),
      'PAGE_LIMIT_EXCEEDED',
    );
  });

  it('a decompression bomb', async () => {
    await expectProcessingError(
      extractText(await writeTemp('bomb.png', pngBomb()), 'image/png'),
      'IMAGE_TOO_LARGE',
    );
  });
});
