import { makePdf } from './pdf.ts';

/**
 * Invoices generated for the extraction tests: PDFs drawn with pdfkit in several languages,
 * layouts and number/date formats, and e-invoice XML written by hand after the CII and UBL
 * standards. Each test states the values it expects; nothing here is read back from the fixtures.
 */

export interface GeneratedInvoice {
  /** Label → value pairs of the header block, printed as they are. */
  header: [string, string][];
  /** Where the header block stands: label and value side by side, or labels over their values. */
  headerLayout: 'side' | 'stacked';
  vendorLines: string[];
  buyerLines: string[];
  columns: { label: string; x: number; width: number; align?: 'left' | 'right' }[];
  rows: string[][];
  totals: [string, string][];
  footer?: string[];
  pages?: number;
  pdf?: PDFKit.PDFDocumentOptions;
  attach?: { name: string; content: string };
}

/** A PDF drawn by `draw`, in memory (the processing tests' generator). */
export const pdfBytes = makePdf;

export function invoicePdf(invoice: GeneratedInvoice): Promise<Buffer> {
  return pdfBytes({ size: 'A4', margin: 40, ...invoice.pdf }, (document) => {
    if (invoice.attach) {
      document.file(Buffer.from(invoice.attach.content), { name: invoice.attach.name, type: 'text/xml' });
    }
    document.font('Helvetica-Bold').fontSize(16).text(invoice.vendorLines[0]!, 40, 40);
    document.font('Helvetica').fontSize(9);
    invoice.vendorLines.slice(1).forEach((line, i) => document.text(line, 40, 62 + i * 12));
    invoice.buyerLines.forEach((line, i) => document.text(line, 320, 110 + i * 12));
    let y = 200;
    if (invoice.headerLayout === 'side') {
      for (const [label, value] of invoice.header) {
        document.text(label, 40, y);
        document.text(value, 150, y);
        y += 14;
      }
    } else {
      invoice.header.forEach(([label, value], i) => {
        document.text(label, 40 + i * 130, y);
        document.text(value, 40 + i * 130, y + 13);
      });
      y += 30;
    }
    y += 30;
    document.font('Helvetica-Bold');
    for (const column of invoice.columns) {
      document.text(column.label, column.x, y, {
        width: column.width,
        align: column.align ?? 'left',
        lineBreak: false,
      });
    }
    document.font('Helvetica');
    y += 20;
    for (const row of invoice.rows) {
      row.forEach((cell, i) => {
        const column = invoice.columns[i]!;
        document.text(cell, column.x, y, {
          width: column.width,
          align: column.align ?? 'left',
          lineBreak: false,
        });
      });
      y += 16;
    }
    y += 20;
    for (const [label, value] of invoice.totals) {
      document.text(label, 330, y);
      document.text(value, 450, y, { width: 100, align: 'right' });
      y += 14;
    }
    (invoice.footer ?? []).forEach((line, i) => document.text(line, 40, 760 + i * 11, { lineBreak: false }));
    for (let page = 2; page <= (invoice.pages ?? 1); page++) {
      document.addPage();
      document.text(`Page ${page}: terms and conditions of sale apply to every order.`, 40, 40);
    }
  });
}

/** A German invoice: DIN-style sender line, "1.234,56", "31.12.2026", VAT per line. */
export const germanInvoice: GeneratedInvoice = {
  vendorLines: ['Frischhof Müller GmbH', 'Hauptstraße 12 · 80331 München', 'USt-IdNr.: DE 123 456 789'],
  buyerLines: ['Rechnungsadresse:', 'Fresh Choice Markt 7', 'Marktplatz 1', '90402 Nürnberg'],
  headerLayout: 'side',
  header: [
    ['Rechnungsnummer:', 'RE-2026-0457'],
    ['Rechnungsdatum:', '03.02.2026'],
    ['Fällig am:', '17.02.2026'],
  ],
  columns: [
    { label: 'Art.-Nr.', x: 40, width: 60 },
    { label: 'Bezeichnung', x: 105, width: 190 },
    { label: 'Menge', x: 300, width: 40, align: 'right' },
    { label: 'Einheit', x: 350, width: 40 },
    { label: 'Einzelpreis', x: 395, width: 70, align: 'right' },
    { label: 'Gesamtpreis', x: 475, width: 80, align: 'right' },
  ],
  rows: [
    ['A-1001', 'Äpfel Elstar Klasse I', '120', 'kg', '1,85', '222,00'],
    ['A-2040', 'Bio-Vollmilch 3,8 % 1 l', '1.200', 'Stk', '1,09', '1.308,00'],
    ['B-0007', 'Bergkäse 12 Monate', '8,5', 'kg', '18,40', '156,40'],
  ],
  totals: [
    ['Nettobetrag', '1.686,40 €'],
    ['MwSt. 7 %', '118,05 €'],
    ['Gesamtbetrag', '1.804,45 €'],
  ],
  footer: ['Zahlbar innerhalb von 14 Tagen ohne Abzug. Frischhof Müller GmbH · HRB 12345 München'],
};

/** A US invoice: "1,234.56", "02/03/2026" month first, $ amounts, labels stacked over values. */
export const usInvoice: GeneratedInvoice = {
  vendorLines: [
    'Green Valley Produce Inc.',
    '410 Orchard Road, Fresno, CA 93650',
    'www.greenvalleyproduce.com',
  ],
  buyerLines: ['Bill to:', 'Fresh Choice Store 12', '100 Main St', 'Springfield, IL 62701'],
  headerLayout: 'stacked',
  header: [
    ['Invoice #', 'GV-88213'],
    ['Invoice Date', '02/03/2026'],
    ['Due Date', '03/05/2026'],
  ],
  columns: [
    { label: 'Item', x: 40, width: 60 },
    { label: 'Description', x: 105, width: 200 },
    { label: 'Qty', x: 310, width: 40, align: 'right' },
    { label: 'Unit Price', x: 360, width: 80, align: 'right' },
    { label: 'Amount', x: 450, width: 100, align: 'right' },
  ],
  rows: [
    ['GV-17', 'Romaine hearts, case of 24', '10', '$21.50', '$215.00'],
    ['GV-33', 'Avocados Hass 48ct', '4', '$52.25', '$209.00'],
    ['GV-90', 'Strawberries 8x1lb flat', '1,200', '$1.25', '$1,500.00'],
  ],
  totals: [
    ['Subtotal', '$1,924.00'],
    ['Sales Tax', '$0.00'],
    ['Total Due', '$1,924.00'],
  ],
};

/** A French invoice: "1 234,56", month names, HT/TVA/TTC. */
export const frenchInvoice: GeneratedInvoice = {
  vendorLines: ['Fromagerie Dupont SARL', '12 rue des Halles, 69002 Lyon', 'N° TVA : FR 12 345678901'],
  buyerLines: ['Facturé à :', 'Fresh Choice Lyon', '5 place Bellecour'],
  headerLayout: 'side',
  header: [
    ['Facture n°', 'F2026-118'],
    ['Date de facture', '5 mars 2026'],
    ["Date d'échéance", '4 avril 2026'],
  ],
  columns: [
    { label: 'Désignation', x: 40, width: 230 },
    { label: 'Qté', x: 280, width: 40, align: 'right' },
    { label: 'Prix unitaire HT', x: 330, width: 90, align: 'right' },
    { label: 'Montant HT', x: 440, width: 110, align: 'right' },
  ],
  rows: [
    ['Comté AOP 18 mois', '25', '21,40', '535,00'],
    ['Beurre doux 250 g', '200', '2,15', '430,00'],
    ['Crème fraîche épaisse 1 l', '1 000', '3,10', '3 100,00'],
  ],
  totals: [
    ['Total HT', '4 065,00 €'],
    ['TVA 5,5 %', '223,58 €'],
    ['Total TTC', '4 288,58 €'],
  ],
};

/** An Italian invoice: "Fattura n.", "31/01/2026", IVA. */
export const italianInvoice: GeneratedInvoice = {
  vendorLines: ['Ortofrutta Rossi S.r.l.', 'Via Roma 5, 20121 Milano', 'Partita IVA: IT01234567890'],
  buyerLines: ['Cliente:', 'Fresh Choice Milano', 'Corso Como 10'],
  headerLayout: 'side',
  header: [
    ['Fattura n.', '2026/045'],
    ['Data fattura', '31/01/2026'],
    ['Scadenza', '02/03/2026'],
  ],
  columns: [
    { label: 'Codice', x: 40, width: 60 },
    { label: 'Descrizione', x: 105, width: 190 },
    { label: 'Quantità', x: 300, width: 50, align: 'right' },
    { label: 'Prezzo unitario', x: 360, width: 80, align: 'right' },
    { label: 'Importo', x: 450, width: 100, align: 'right' },
  ],
  rows: [
    ['OR-11', 'Arance Tarocco', '300', '1,20', '360,00'],
    ['OR-52', 'Limoni di Sorrento IGP', '80', '2,45', '196,00'],
  ],
  totals: [
    ['Imponibile', '556,00'],
    ['IVA 4%', '22,24'],
    ['Totale fattura', '578,24 EUR'],
  ],
};

/** A CII invoice (XRechnung / Factur-X EN 16931 profile), with a GTIN and a base quantity. */
export const ciiXml = `<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>0042-2026</ram:ID>
    <ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20260315</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct>
        <ram:GlobalID schemeID="0160">4012345678901</ram:GlobalID>
        <ram:SellerAssignedID>MK-100</ram:SellerAssignedID>
        <ram:Name>Vollmilch 3,5 % 1 l</ram:Name>
      </ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>9.60</ram:ChargeAmount><ram:BasisQuantity unitCode="C62">12</ram:BasisQuantity></ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">120</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>7</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>96.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>2</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:SellerAssignedID>KS-7</ram:SellerAssignedID><ram:Name>Bergkäse</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount>18.40</ram:ChargeAmount></ram:NetPriceProductTradePrice>
      </ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="KGM">2.5</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>7</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>46.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty>
        <ram:Name>Molkerei Alpenblick eG</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE 987 654 321</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Fresh Choice GmbH</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime><udt:DateTimeString format="102">20260414</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>142.00</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>142.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">9.94</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>151.94</ram:GrandTotalAmount>
        <ram:DuePayableAmount>151.94</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>`;

/** A UBL 2.1 invoice (Peppol BIS 3 / XRechnung UBL) in CHF. */
export const ublXml = `<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ID>UBL-7781</cbc:ID>
  <cbc:IssueDate>2026-06-30</cbc:IssueDate>
  <cbc:DueDate>2026-07-30</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>CHF</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PartyName><cbc:Name>Käserei Bern AG</cbc:Name></cac:PartyName>
    <cac:PartyTaxScheme><cbc:CompanyID>CHE-123.456.789 MWST</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Fresh Choice AG</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="CHF">2.60</cbc:TaxAmount></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="CHF">100.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="CHF">100.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="CHF">102.60</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="CHF">102.60</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="KGM">4</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="CHF">100.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Emmentaler AOP</cbc:Name>
      <cac:SellersItemIdentification><cbc:ID>EM-4</cbc:ID></cac:SellersItemIdentification>
      <cac:StandardItemIdentification><cbc:ID schemeID="0160">7612345000017</cbc:ID></cac:StandardItemIdentification>
      <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>2.6</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="CHF">25.00</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>`;
