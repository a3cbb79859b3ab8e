/** What a purchase order's PDF shows; every figure as the order holds it. */
export interface PurchaseOrderDocument {
  storeName: string;
  poNumber: string;
  status: string;
  orderDate: string;
  expectedDate: string;
  currency: string;
  subtotal: number;
  notes: string | null;
  vendor: {
    name: string;
    address: string | null;
    city: string | null;
    state: string | null;
    zip: string | null;
    country: string | null;
    email: string | null;
    phone: string | null;
  };
  lines: Array<{
    lineNumber: number;
    vendorSku: string | null;
    description: string;
    quantity: number;
    orderUnit: string;
    unitsPerCase: number;
    unitCost: number;
    lineTotal: number;
  }>;
}

/**
 * The built-in PDF fonts (Helvetica) encode WinAnsi only: a character outside it (an emoji, CJK
 * text in an item's name) is shown as '?', never allowed to break the document.
 */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u00ff\u20ac\u2013\u2014\u2018\u2019\u201c\u201d]/gu, '?');
}

function money(value: number, currency: string): string {
  return `${currency} ${value.toFixed(2)}`;
}

function quantity(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '');
}

/**
 * Renders the order as an A4 PDF (pdfkit, built-in fonts, no images). The creation date is the
 * order's own date, so the same order renders to the same text.
 */
export async function renderPurchaseOrderPdf(order: PurchaseOrderDocument): Promise<Buffer> {
  // pdfkit (fonts, fontkit) is about 30 MB resident: loaded with the first PDF, not at start-up.
  const { default: PDFDocument } = await import('pdfkit');
  const doc = new PDFDocument({
    size: 'A4',
    margin: 48,
    info: {
      Title: `Purchase order ${order.poNumber}`,
      Author: printable(order.storeName),
      CreationDate: new Date(`${order.orderDate}T00:00:00Z`),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  doc.font('Helvetica-Bold').fontSize(18).text(printable(order.storeName), { width });
  doc.moveDown(0.3);
  doc.fontSize(14).text(`Purchase order ${order.poNumber}`, { width });
  doc.moveDown(0.5);
  doc.font('Helvetica').fontSize(10);
  doc.text(`Order date: ${order.orderDate}`);
  doc.text(`Expected delivery: ${order.expectedDate}`);
  doc.text(`Status: ${order.status}`);
  doc.text(`Currency: ${order.currency}`);
  doc.moveDown();

  doc.font('Helvetica-Bold').text('Vendor');
  doc.font('Helvetica');
  const { vendor } = order;
  const place = [vendor.city, vendor.state, vendor.zip].filter(Boolean).join(', ');
  for (const line of [vendor.name, vendor.address, place, vendor.country, vendor.email, vendor.phone]) {
    if (line) doc.text(printable(line), { width });
  }
  doc.moveDown();

  // The lines as a table: SKU, description, quantity and unit, unit cost, line total.
  const columns = [
    { title: 'SKU', width: 70, align: 'left' as const },
    { title: 'Description', width: width - 70 - 80 - 80 - 90, align: 'left' as const },
    { title: 'Qty', width: 80, align: 'right' as const },
    { title: 'Unit cost', width: 80, align: 'right' as const },
    { title: 'Line total', width: 90, align: 'right' as const },
  ];
  const row = (cells: string[], bold = false) => {
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    const heights = cells.map((cell, index) =>
      doc.heightOfString(cell, { width: columns[index]!.width - 6 }),
    );
    const height = Math.max(...heights) + 4;
    if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const top = doc.y;
    let x = left;
    cells.forEach((cell, index) => {
      const column = columns[index]!;
      doc.text(cell, x, top, { width: column.width - 6, align: column.align });
      x += column.width;
    });
    doc.x = left;
    doc.y = top + height;
  };
  row(
    columns.map((column) => column.title),
    true,
  );
  for (const line of order.lines) {
    const unit =
      line.orderUnit === 'case' ? `case${line.quantity === 1 ? '' : 's'} of ${line.unitsPerCase}` : 'units';
    row([
      printable(line.vendorSku ?? ''),
      printable(line.description),
      `${quantity(line.quantity)} ${unit}`,
      line.unitCost.toFixed(4).replace(/(\.\d\d\d?)0+$/, '$1'),
      line.lineTotal.toFixed(2),
    ]);
  }
  doc.moveDown();
  doc
    .font('Helvetica-Bold')
    .fontSize(11)
    .text(`Subtotal: ${money(order.subtotal, order.currency)}`, left, doc.y, { width, align: 'right' });
  if (order.notes) {
    doc.moveDown();
    doc.font('Helvetica-Bold').fontSize(10).text('Notes', left);
    doc.font('Helvetica').text(printable(order.notes), { width });
  }
  doc.end();
  return done;
}
