import { amountsAgree, round } from './normalise.ts';
import type { Check, ExtractedInvoice, Field } from './types.ts';

/** How much a failed check keeps of a field's confidence. */
const PENALTY = 0.5;

function lower(field: Field<unknown> | undefined, why: string): void {
  if (!field) return;
  field.confidence = round(field.confidence * PENALTY);
  (field.issues ??= []).push(why);
}

/**
 * The arithmetic an invoice must satisfy: per line, quantity × unit cost (less its discount) ≈
 * line total; the lines add up to the subtotal (or to the total, when prices include tax, or to
 * the total less tax); subtotal + tax ≈ total. Each failed check lowers the confidence of the
 * fields it involves and says why; every check run is listed, passed or not.
 */
export function runChecks(invoice: ExtractedInvoice): void {
  const checks: Check[] = [];
  invoice.lines.forEach((line, index) => {
    const { quantity, unitCost, lineTotal } = line;
    if (!quantity || !unitCost || !lineTotal) return;
    const discount = line.discountPercent?.value ?? 0;
    const expected = round(quantity.value * unitCost.value * (1 - discount / 100));
    // Unit prices are sometimes per 10 or per 100 units, or printed gross while the total is net:
    // only a plain mismatch is reported.
    const passed =
      amountsAgree(expected, lineTotal.value) ||
      amountsAgree(quantity.value * unitCost.value, lineTotal.value);
    checks.push({
      name: 'line_arithmetic',
      line: index,
      passed,
      expected,
      actual: lineTotal.value,
      message: passed
        ? `Line ${index + 1}: ${quantity.value} × ${unitCost.value} = ${lineTotal.value}`
        : `Line ${index + 1}: ${quantity.value} × ${unitCost.value}${discount ? ` − ${discount}%` : ''} = ${expected}, but the line total reads ${lineTotal.value}`,
    });
    if (!passed) {
      const why = `quantity × unit cost (${expected}) does not match the line total (${lineTotal.value})`;
      lower(quantity, why);
      lower(unitCost, why);
      lower(lineTotal, why);
    }
  });

  const { subtotal, tax, total } = invoice.header;
  const totals = invoice.lines.map((line) => line.lineTotal?.value);
  if (totals.length && totals.every((value) => value !== undefined)) {
    const sum = round(totals.reduce((a, b) => a + b, 0));
    const targets: [string, number][] = [];
    if (subtotal) targets.push(['the subtotal', subtotal.value]);
    if (total) targets.push(['the total', total.value]);
    if (total && tax) targets.push(['the total less tax', round(total.value - tax.value)]);
    if (targets.length) {
      const match = targets.find(([, value]) => amountsAgree(sum, value));
      checks.push({
        name: 'lines_sum',
        passed: !!match,
        expected: match?.[1] ?? targets[0]![1],
        actual: sum,
        message: match
          ? `The lines add up to ${match[0]} (${sum})`
          : `The lines add up to ${sum}, which is neither ${targets.map(([name, value]) => `${name} (${value})`).join(' nor ')}`,
      });
      if (!match) {
        const why = `the lines add up to ${sum}, not to the invoice's amounts: a line may be missing or misread`;
        for (const line of invoice.lines) lower(line.lineTotal, why);
        lower(subtotal ?? total, why);
      }
    }
  }
  if (subtotal && tax && total) {
    const expected = round(subtotal.value + tax.value);
    const passed = amountsAgree(expected, total.value);
    checks.push({
      name: 'header_sum',
      passed,
      expected,
      actual: total.value,
      message: passed
        ? `Subtotal ${subtotal.value} + tax ${tax.value} = total ${total.value}`
        : `Subtotal ${subtotal.value} + tax ${tax.value} = ${expected}, but the total reads ${total.value}`,
    });
    if (!passed) {
      const why = `subtotal + tax (${expected}) does not match the total (${total.value})`;
      lower(subtotal, why);
      lower(tax, why);
      lower(total, why);
    }
  }
  invoice.checks.push(...checks);
}
