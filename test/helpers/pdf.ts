import PDFDocument from 'pdfkit';

/**
 * A PDF drawn by `draw`, in memory, with a fixed creation date so the same drawing gives the same
 * bytes. Free of vitest, so the benchmarks draw their PDFs with it too.
 */
export function makePdf(
  options: PDFKit.PDFDocumentOptions,
  draw: (document: PDFKit.PDFDocument) => void = () => {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const document = new PDFDocument({ ...options, info: { CreationDate: new Date(0) } });
    const chunks: Buffer[] = [];
    document.on('data', (chunk: Buffer) => chunks.push(chunk));
    document.on('end', () => resolve(Buffer.concat(chunks)));
    document.on('error', reject);
    draw(document);
    document.end();
  });
}
