import { ExtractionFailure } from './types.ts';

export type DetectedKind =
  | { kind: 'pdf' }
  | { kind: 'image'; mime: 'image/png' | 'image/jpeg' | 'image/tiff' | 'image/webp' }
  | { kind: 'xlsx' }
  | { kind: 'cii' }
  | { kind: 'ubl' }
  | { kind: 'csv' }
  | { kind: 'text' };

const IMAGE_MIMES = new Set(['image/png', 'image/jpeg', 'image/tiff', 'image/webp']);

/**
 * What the file is, from its bytes: magic numbers through file-type, then, for text, the XML root
 * element (CII or UBL) or the file's shape (delimited columns → CSV, else plain text). The name
 * and declared media type only break ties between CSV and plain text: an upload's declared type
 * is often wrong (a PDF sent as application/octet-stream, an XML as text/plain).
 */
export async function detectFormat(
  bytes: Uint8Array,
  fileName?: string,
  mediaType?: string,
): Promise<DetectedKind> {
  if (bytes.length === 0) throw new ExtractionFailure('corrupt_file', 'The file is empty: upload it again.');
  const { fileTypeFromBuffer } = await import('file-type');
  const type = await fileTypeFromBuffer(bytes);
  if (type) {
    if (type.mime === 'application/pdf') return { kind: 'pdf' };
    if (IMAGE_MIMES.has(type.mime)) return { kind: 'image', mime: type.mime as 'image/png' };
    if (type.ext === 'xlsx') return { kind: 'xlsx' };
    if (type.ext !== 'xml') {
      const hint =
        type.ext === 'xls' || type.ext === 'cfb'
          ? ' Save the spreadsheet as XLSX or CSV and upload that.'
          : type.ext === 'zip'
            ? ' Unpack the archive and upload the invoice itself.'
            : ' Upload a PDF, an image (JPEG, PNG, TIFF), an e-invoice (XML) or a CSV/XLSX export.';
      throw new ExtractionFailure(
        'unsupported_format',
        `This file is a ${type.ext.toUpperCase()} file, which is not an invoice format we read.${hint}`,
        { detected: type.mime },
      );
    }
  }
  // A PDF whose header is damaged or preceded by junk is still called a PDF by its name.
  if (/\.pdf$/i.test(fileName ?? '') || mediaType === 'application/pdf') return { kind: 'pdf' };

  const text = decodeText(bytes);
  if (text === undefined) {
    throw new ExtractionFailure(
      'unsupported_format',
      'The file is neither a PDF, an image, a spreadsheet nor text: upload the invoice as PDF, image, XML, CSV or XLSX.',
    );
  }
  const root = xmlRoot(text);
  if (root) {
    if (root.localName === 'CrossIndustryInvoice') return { kind: 'cii' };
    if (
      (root.localName === 'Invoice' || root.localName === 'CreditNote') &&
      /oasis|ubl/i.test(root.namespace ?? '')
    )
      return { kind: 'ubl' };
    throw new ExtractionFailure(
      'unsupported_format',
      `This XML file (<${root.localName}>) is not an e-invoice we read: upload an XRechnung/Factur-X CII or a UBL invoice.`,
      { root: root.localName },
    );
  }
  if (
    /\.(csv|tsv)$/i.test(fileName ?? '') ||
    /csv|tab-separated/.test(mediaType ?? '') ||
    looksDelimited(text)
  )
    return { kind: 'csv' };
  return { kind: 'text' };
}

/** UTF-8 (or UTF-16 with a BOM, or Latin-1) text, or undefined for binary data. */
export function decodeText(bytes: Uint8Array): string | undefined {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le').decode(bytes);
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be').decode(bytes);
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = new TextDecoder('latin1').decode(bytes);
    }
  }
  const sample = text.slice(0, 4096);
  // Control characters other than tab, newline, carriage return and form feed mean binary.
  // eslint-disable-next-line no-control-regex -- control characters are what tells binary from text
  const control = sample.match(/[\u0000-\u0008\u000e-\u001f]/g)?.length ?? 0;
  if (control > sample.length / 100) return undefined;
  return text.replace(/^\ufeff/, '');
}

/** The root element's local name and namespace, when the text is XML. */
export function xmlRoot(text: string): { localName: string; namespace?: string } | undefined {
  const body = text
    .replace(/^\s*<\?xml[^>]*\?>/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!DOCTYPE[^>]*>/i, '')
    .trimStart();
  const match = /^<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>/.exec(body);
  if (!match) return undefined;
  const prefix = match[1]?.slice(0, -1);
  const attributes = match[3] ?? '';
  const nsPattern = prefix
    ? new RegExp(`xmlns:${prefix}\\s*=\\s*["']([^"']+)["']`)
    : /xmlns\s*=\s*["']([^"']+)["']/;
  return { localName: match[2]!, namespace: nsPattern.exec(attributes)?.[1] };
}

/** Most of the first lines split into the same number (≥ 3) of fields by one delimiter. */
function looksDelimited(text: string): boolean {
  const lines = text
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .slice(0, 20);
  if (lines.length < 2) return false;
  return [',', ';', '\t', '|'].some((delimiter) => {
    const counts = lines.map((line) => line.split(delimiter).length);
    const first = counts[0]!;
    return first >= 3 && counts.filter((count) => count === first).length >= lines.length * 0.8;
  });
}
