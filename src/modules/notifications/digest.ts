import type { LiveAlertRow } from './notifications.repository.ts';

/** Lines of alerts one digest lists; the rest are counted. */
export const DIGEST_MAX_LINES = 200;

const KIND_TITLE: Record<string, string> = { low_stock: 'Low stock', expiry: 'Expiry' };
const SEVERITY_TITLE: Record<string, string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };

const shown = (value: unknown) =>
  typeof value === 'number' || (typeof value === 'string' && value.length <= 100) ? String(value) : undefined;

/** What an alert says, from its details (the spec's LowStockAlert / ExpiryWarning fields). */
export function describeAlert(kind: string, details: Record<string, unknown>): string {
  const parts: string[] = [];
  const stock = shown(details.currentStock);
  if (kind === 'low_stock') {
    if (stock !== undefined) parts.push(`${stock} in stock`);
    const threshold = shown(details.threshold);
    if (threshold !== undefined) parts.push(`threshold ${threshold}`);
  } else {
    const date = shown(details.expiryDate);
    const days = typeof details.daysUntilExpiry === 'number' ? details.daysUntilExpiry : undefined;
    if (date !== undefined) {
      const when =
        days === undefined
          ? ''
          : days < 0
            ? ` (${-days} days ago)`
            : days === 0
              ? ' (today)'
              : ` (in ${days} days)`;
      parts.push(`expires ${date}${when}`);
    }
    const quantity = shown(details.quantity) ?? stock;
    if (quantity !== undefined) parts.push(`${quantity} units`);
  }
  const location = shown(details.location);
  if (location) parts.push(`at ${location}`);
  return parts.join(', ');
}

/** The digest's subject and plain text: alerts grouped by kind, then severity. */
export function digestMail(input: {
  store: string;
  day: string;
  username: string;
  alerts: LiveAlertRow[];
  publicAppUrl: string;
}): { subject: string; text: string } {
  const { alerts } = input;
  const count = alerts.length;
  const lines = [
    `Hello ${input.username},`,
    '',
    `${input.store} has ${count} live alert${count === 1 ? '' : 's'} on ${input.day}:`,
  ];
  let listed = 0;
  let kind: string | undefined;
  let severity: string | undefined;
  for (const alert of alerts) {
    if (listed >= DIGEST_MAX_LINES) break;
    if (alert.kind !== kind) {
      kind = alert.kind;
      severity = undefined;
      const ofKind = alerts.filter((a) => a.kind === kind).length;
      lines.push('', `${KIND_TITLE[kind] ?? kind} (${ofKind})`);
    }
    if (alert.severity !== severity) {
      severity = alert.severity;
      const ofSeverity = alerts.filter((a) => a.kind === kind && a.severity === severity).length;
      lines.push(`  ${SEVERITY_TITLE[severity] ?? severity} (${ofSeverity})`);
    }
    const said = describeAlert(alert.kind, alert.details);
    const acknowledged = alert.state === 'acknowledged' ? ' [acknowledged]' : '';
    lines.push(`    - ${alert.item_name}${said ? `: ${said}` : ''}${acknowledged}`);
    listed++;
  }
  if (count > listed) lines.push('', `… and ${count - listed} more in the app.`);
  lines.push(
    '',
    `See them in Fresh Choice: ${input.publicAppUrl}`,
    'You get this e-mail because your notification preferences have the daily digest on.',
  );
  return {
    subject: `${input.store}: ${count} live alert${count === 1 ? '' : 's'} (${input.day})`,
    text: lines.join('\n'),
  };
}
