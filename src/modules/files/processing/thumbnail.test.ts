import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  expectProcessingError,
  fixture,
  makePdf,
  pngBomb,
  scannedPdf,
  writeTemp,
} from '../../../../test/helpers/processing.ts';
import { isProcessingError } from './errors.ts';
import { makeThumbnail } from './thumbnail.ts';

/** Decodes the thumbnail and checks it is what makeThumbnail says it is. */
async function decoded(thumbnail: Awaited<ReturnType<typeof makeThumbnail>>) {
  const metadata = await sharp(thumbnail.buffer).metadata();
  expect(`image/${metadata.format}`).toBe(thumbnail.mime);
  expect([metadata.width, metadata.height]).toEqual([thumbnail.width, thumbnail.height]);
  const stats = await sharp(thumbnail.buffer).stats();
  return { metadata, stats };
}

/** A photo-like test image: a dark square in the top-left corner of a light background. */
function picture(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: '#e0f0e0' } }).composite([
    {
      input: {
        create: {
          width: Math.round(width / 4),
          height: Math.round(height / 4),
          channels: 3,
          background: '#102010',
        },
      },
      left: 0,
      top: 0,
    },
  ]);
}

describe('makeThumbnail', () => {
  it('shrinks a PNG to 320 px on its long side, as WebP', async () => {
    const thumbnail = await makeThumbnail(fixture('oyo.png'), 'image/png');
    // 2892 × 4093 keeps its ratio.
    expect(thumbnail).toMatchObject({ mime: 'image/webp', width: 226, height: 320 });
    expect(thumbnail.buffer.length).toBeLessThan(20_000);
    await decoded(thumbnail);
  });

  it('turns a JPEG upright by its EXIF orientation', async () => {
    // Stored 800 × 400 with orientation 6 (rotate 90° clockwise to display): a 400 × 800 portrait.
    const jpeg = await picture(800, 400).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const file = await writeTemp('rotated.jpg', jpeg);
    const thumbnail = await makeThumbnail(file, 'image/jpeg');
    expect(thumbnail).toMatchObject({ width: 160, height: 320 });
    // The dark corner, top-left as stored, is top-right once displayed upright.
    const { data, info } = await sharp(thumbnail.buffer).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => data[(y * info.width + x) * info.channels]!;
    expect(at(info.width - 5, 5)).toBeLessThan(80);
    expect(at(5, 5)).toBeGreaterThan(180);
  });

  it('never enlarges a small image, and writes PNG when asked', async () => {
    const file = await writeTemp('small.png', await picture(120, 80).png().toBuffer());
    const thumbnail = await makeThumbnail(file, 'image/png', { format: 'png' });
    expect(thumbnail).toMatchObject({ mime: 'image/png', width: 120, height: 80 });
    await decoded(thumbnail);
  });

  it.each([
    ['tiff', 'image/tiff'],
    ['webp', 'image/webp'],
    ['gif', 'image/gif'],
  ] as const)('reads %s', async (format, mime) => {
    const file = await writeTemp(`picture.${format}`, await picture(1000, 500).toFormat(format).toBuffer());
    const thumbnail = await makeThumbnail(file, mime);
    expect(thumbnail).toMatchObject({ width: 320, height: 160 });
    await decoded(thumbnail);
  });

  it("renders a PDF's first page", async () => {
    const thumbnail = await makeThumbnail(fixture('oyo.pdf'), 'application/pdf');
    // A4 (595 × 842 pt).
    expect(thumbnail).toMatchObject({ mime: 'image/webp', width: 226, height: 320 });
    const { stats } = await decoded(thumbnail);
    // Printed, not blank: dark text on a white page.
    expect(stats.channels[0]!.min).toBeLessThan(100);
    expect(stats.channels[0]!.max).toBe(255);
  });

  it('renders only the first page, in its own orientation', async () => {
    const pdf = await makePdf({ autoFirstPage: false }, (document) => {
      document.addPage({ size: 'A5', layout: 'landscape' }).fontSize(40).text('First page');
      document.addPage({ size: 'A5', layout: 'portrait' }).fontSize(40).text('Second page');
    });
    const thumbnail = await makeThumbnail(await writeTemp('two-pages.pdf', pdf), 'application/pdf');
    expect(thumbnail.width).toBe(320);
    expect(thumbnail.height).toBe(226);
  });

  it('renders a scanned PDF page', async () => {
    const image = await picture(600, 800).png().toBuffer();
    const thumbnail = await makeThumbnail(
      await writeTemp('scan.pdf', await scannedPdf([image])),
      'application/pdf',
    );
    expect(thumbnail.height).toBe(320);
    const { stats } = await decoded(thumbnail);
    expect(stats.channels[0]!.min).toBeLessThan(60);
  });

  describe('refuses', () => {
    it('a type it does not read', async () => {
      const file = await writeTemp('notes.txt', 'hello');
      const error = await expectProcessingError(makeThumbnail(file, 'text/plain'), 'UNSUPPORTED_MEDIA_TYPE');
      expect(error.status).toBe(415);
    });

    it('an image that is not one', async () => {
      const file = await writeTemp('garbage.png', Buffer.from('definitely not a PNG file'));
      await expectProcessingError(makeThumbnail(file, 'image/png'), 'CORRUPT_FILE');
    });

    it('a truncated image', async () => {
      const png = await readFile(fixture('oyo.png'));
      const file = await writeTemp('truncated.png', png.subarray(0, png.length / 2));
      await expectProcessingError(makeThumbnail(file, 'image/png'), 'CORRUPT_FILE');
    });

    it('an empty file', async () => {
      const file = await writeTemp('empty.jpg', '');
      await expectProcessingError(makeThumbnail(file, 'image/jpeg'), 'CORRUPT_FILE');
    });

    it('a decompression bomb, from its header', async () => {
      const file = await writeTemp('bomb.png', pngBomb());
      const error = await expectProcessingError(makeThumbnail(file, 'image/png'), 'IMAGE_TOO_LARGE');
      expect(error.details).toMatchObject({ width: 100_000, height: 100_000 });
    });

    it('an image over the pixel limit given', async () => {
      await expectProcessingError(
        makeThumbnail(fixture('oyo.png'), 'image/png', { maxInputPixels: 1_000_000 }),
        'IMAGE_TOO_LARGE',
      );
    });

    it('a PDF that needs a password', async () => {
      const pdf = await makePdf({ userPassword: 'secret', ownerPassword: 'owner' }, (document) => {
        document.text('Locked');
      });
      await expectProcessingError(
        makeThumbnail(await writeTemp('locked.pdf', pdf), 'application/pdf'),
        'PDF_ENCRYPTED',
      );
    });

    it('a PDF without pages', async () => {
      const pdf = await makePdf({ autoFirstPage: false });
      await expectProcessingError(
        makeThumbnail(await writeTemp('no-pages.pdf', pdf), 'application/pdf'),
        'EMPTY_DOCUMENT',
      );
    });

    it('a damaged PDF', async () => {
      const pdf = await readFile(fixture('oyo.pdf'));
      const file = await writeTemp('damaged.pdf', pdf.subarray(0, 3000));
      await expectProcessingError(makeThumbnail(file, 'application/pdf'), 'CORRUPT_FILE');
    });
  });

  it('lets a missing file through as the file system error it is', async () => {
    const error = await makeThumbnail('/nonexistent/photo.jpg', 'image/jpeg').catch(
      (reason: unknown) => reason,
    );
    expect(isProcessingError(error)).toBe(false);
    expect(error).toMatchObject({ code: 'ENOENT' });
  });
});
