import bwipjs from 'bwip-js/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ean13Png,
  expectProcessingError,
  fixture,
  pngBomb,
  writeTemp,
} from '../../../../test/helpers/processing.ts';
import { analyseImage } from './image-analysis.ts';

function barcodePng(bcid: string, text: string): Promise<Buffer> {
  // bwip-js draws on a transparent background unless told otherwise.
  return bwipjs.toBuffer({
    bcid,
    text,
    scale: 3,
    height: 15,
    includetext: true,
    paddingwidth: 10,
    paddingheight: 10,
  });
}

describe('analyseImage', () => {
  const fetches = vi.fn(() => Promise.reject(new Error('no network in this test')));

  beforeAll(() => {
    // zxing-wasm fetches its WASM from a CDN unless given the binary: nothing may be fetched.
    vi.stubGlobal('fetch', fetches);
  });

  afterAll(() => {
    vi.unstubAllGlobals();
  });

  it('finds an EAN-13 and checks it with the inventory barcode rules', async () => {
    const file = await writeTemp('ean13.png', await barcodePng('ean13', '4006381333931'));
    const analysis = await analyseImage(file);
    expect(analysis).toEqual({
      width: expect.any(Number),
      height: expect.any(Number),
      format: 'png',
      barcodes: [{ format: 'EAN-13', text: '4006381333931', valid: true, normalisedGtin: '04006381333931' }],
    });
    expect(fetches).not.toHaveBeenCalled();
  });

  it('flags an EAN-13 whose check digit is wrong, naming the right one', async () => {
    const file = await writeTemp('wrong-digit.png', await ean13Png('4006381333932'));
    const { barcodes } = await analyseImage(file);
    expect(barcodes).toEqual([
      {
        format: 'EAN-13',
        text: '4006381333932',
        valid: false,
        error: 'Wrong check digit for EAN-13 4006381333932: expected 1, got 2',
      },
    ]);
    // The same drawing with the right digit reads as valid: the flag is the digit, not the drawing.
    const good = await writeTemp('right-digit.png', await ean13Png('4006381333931'));
    expect((await analyseImage(good)).barcodes).toMatchObject([
      { valid: true, normalisedGtin: '04006381333931' },
    ]);
  });

  it.each([
    ['upca', '036000291452', { format: 'UPC-A', text: '036000291452', normalisedGtin: '00036000291452' }],
    ['ean8', '96385074', { format: 'EAN-8', text: '96385074', normalisedGtin: '00000096385074' }],
    // UPC-E 04252614 is UPC-A 042100005264.
    ['upce', '04252614', { format: 'UPC-E', text: '04252614', normalisedGtin: '00042100005264' }],
    ['code128', 'LOT-2026-0042', { format: 'Code128', text: 'LOT-2026-0042' }],
    [
      'qrcode',
      'https://freshchoice.example/items/42',
      { format: 'QRCode', text: 'https://freshchoice.example/items/42' },
    ],
  ])('finds a %s', async (bcid, text, expected) => {
    const file = await writeTemp(`${bcid}.png`, await barcodePng(bcid, text));
    expect((await analyseImage(file)).barcodes).toEqual([{ valid: true, ...expected }]);
  });

  it('finds several barcodes in a photo-sized JPEG turned by its EXIF orientation', async () => {
    const ean = await sharp(await barcodePng('ean13', '5901234123457'))
      .flatten({ background: '#ffffff' })
      .toBuffer();
    const qr = await sharp(await barcodePng('qrcode', 'pallet 17'))
      .flatten({ background: '#ffffff' })
      .toBuffer();
    // Stored 2000 × 1200 with orientation 8: displayed 1200 × 2000, barcodes running upwards.
    const photo = await sharp({ create: { width: 2000, height: 1200, channels: 3, background: '#f4f4f0' } })
      .composite([
        { input: ean, left: 200, top: 300 },
        { input: qr, left: 1300, top: 700 },
      ])
      .jpeg({ quality: 92 })
      .withMetadata({ orientation: 8 })
      .toBuffer();
    const analysis = await analyseImage(await writeTemp('shelf.jpg', photo));
    expect(analysis).toMatchObject({ width: 1200, height: 2000, format: 'jpeg' });
    expect(analysis.barcodes).toEqual(
      expect.arrayContaining([
        { format: 'EAN-13', text: '5901234123457', valid: true, normalisedGtin: '05901234123457' },
        { format: 'QRCode', text: 'pallet 17', valid: true },
      ]),
    );
    expect(analysis.barcodes).toHaveLength(2);
  });

  it('reports size and format, and no barcodes, for an image without any', async () => {
    const analysis = await analyseImage(fixture('oyo.png'));
    expect(analysis).toEqual({ width: 2892, height: 4093, format: 'png', barcodes: [] });
  });

  describe('refuses', () => {
    it('a file that is not an image, such as a PDF', async () => {
      await expectProcessingError(analyseImage(fixture('oyo.pdf')), 'CORRUPT_FILE');
      await expectProcessingError(analyseImage(await writeTemp('garbage.jpg', 'not a JPEG')), 'CORRUPT_FILE');
    });

    it('a decompression bomb', async () => {
      await expectProcessingError(analyseImage(await writeTemp('bomb.png', pngBomb())), 'IMAGE_TOO_LARGE');
    });
  });
});
