/**
 * Numbers, dates, currencies and labels as invoices print them, in the languages the stores' vendors
 * write in (EN, DE, FR, IT, NL, ES, PL). Pure functions, no layout knowledge.
 */

export type DecimalSeparator = ',' | '.';
export type DateOrder = 'DMY' | 'MDY' | 'YMD';

/** Lower case, accents kept, punctuation other than letters/digits/%/# turned into single spaces. */
export function normaliseLabel(text: string): string {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/[_]/g, ' ')
    .replace(/[^\p{L}\p{N}%#°]+/gu, ' ')
    .trim();
}

const CURRENCY_SYMBOLS: [RegExp, string][] = [
  [/€/, 'EUR'],
  [/£/, 'GBP'],
  [/₹/, 'INR'],
  [/¥/, 'JPY'],
  [/zł/i, 'PLN'],
  [/\$/, 'USD'],
  [/\bRs\.?(?=\s?\d)/, 'INR'],
];

const ISO_CURRENCIES = new Set([
  'EUR',
  'USD',
  'GBP',
  'CHF',
  'INR',
  'PLN',
  'CZK',
  'SEK',
  'NOK',
  'DKK',
  'HUF',
  'RON',
  'BGN',
  'CAD',
  'AUD',
  'NZD',
  'JPY',
  'CNY',
  'HKD',
  'SGD',
  'ZAR',
  'MXN',
  'BRL',
  'TRY',
  'AED',
]);

/** Currency codes and symbols in the text, most frequent first. */
export function currenciesIn(text: string): { code: string; count: number; fromSymbol: boolean }[] {
  const counts = new Map<string, { count: number; fromSymbol: boolean }>();
  const add = (code: string, fromSymbol: boolean) => {
    const entry = counts.get(code) ?? { count: 0, fromSymbol };
    entry.count++;
    if (!fromSymbol) entry.fromSymbol = false;
    counts.set(code, entry);
  };
  for (const match of text.matchAll(/\b[A-Z]{3}\b/g)) if (ISO_CURRENCIES.has(match[0])) add(match[0], false);
  for (const [pattern, code] of CURRENCY_SYMBOLS) {
    const global = new RegExp(pattern.source, 'g' + pattern.flags);
    for (const _ of text.matchAll(global)) add(code, true);
  }
  // "Fr." or "CHF" amounts; "US$" and "A$" are read as "$" above, which is good enough for a guess.
  return [...counts.entries()]
    .map(([code, entry]) => ({ code, ...entry }))
    .sort((a, b) => Number(a.fromSymbol) - Number(b.fromSymbol) || b.count - a.count);
}

const AMOUNT_TOKEN =
  /^[-−(]?\s*(?:[A-Z]{3}|Rs\.?|[€$£₹¥]|zł)?\s*[-−]?\s*(\d{1,3}(?:[.,'’ \u00a0\u202f]\d{3})+|\d+)(?:([.,])(\d{1,4}))?\s*(?:[A-Z]{3}|[€$£₹¥]|zł|,-|-)?\s*[)-]?$/;

/**
 * An amount as printed: "1.234,56", "1,234.56", "1 234,56 €", "$4.11", "-9,32", "(9.32)",
 * "12,50-" (trailing minus). A lone separator followed by three digits ("1,234") is a thousands
 * separator unless `decimal` says that separator is the decimal one. Undefined when not an amount.
 */
export function parseAmount(raw: string, decimal?: DecimalSeparator): number | undefined {
  const text = raw.trim().replace(/\u2212/g, '-');
  if (!text || text.length > 40 || /%/.test(text)) return undefined;
  const match = AMOUNT_TOKEN.exec(text);
  if (!match) return undefined;
  let integer = match[1]!;
  let separator = match[2];
  let fraction = match[3];
  const negative =
    /^[-(]/.test(text) || /[-)]$/.test(text.replace(/,-$/, '')) || /^[A-Z€$£₹¥]{1,3}\s*-/.test(text);
  // "1.234" or "1,234" with one group: ambiguous.
  const grouped = /^(\d{1,3})([.,'’ \u00a0\u202f])(\d{3})$/.exec(integer);
  if (grouped && separator === undefined && (grouped[2] === '.' || grouped[2] === ',')) {
    if (decimal === grouped[2]) {
      integer = grouped[1]!;
      separator = grouped[2];
      fraction = grouped[3];
    }
  }
  // The grouping separator must differ from the decimal one ("1.234.56" is not an amount).
  const groupSeparators = new Set(integer.replace(/\d/g, ''));
  if (separator && groupSeparators.has(separator)) return undefined;
  if (groupSeparators.size > 1) return undefined;
  if (separator && decimal && separator !== decimal && fraction?.length === 3 && groupSeparators.size === 0) {
    // "1,500" in a document whose decimal separator is ".": a thousands group.
    integer += fraction;
    fraction = undefined;
  }
  const value = Number(integer.replace(/\D/g, '') + (fraction ? '.' + fraction : ''));
  if (!Number.isFinite(value)) return undefined;
  return negative ? -value : value;
}

/** Whether the text is an amount written with decimals (a money value rather than a count or an id). */
export function looksLikeMoney(raw: string): boolean {
  return /\d[.,]\d{2}(?!\d)/.test(raw) && parseAmount(raw) !== undefined;
}

/** The document's decimal separator, from its unambiguous amounts (two decimals after the last separator). */
export function guessDecimalSeparator(text: string): DecimalSeparator | undefined {
  let comma = 0;
  let point = 0;
  for (const match of text.matchAll(/(?<![\d.,])\d{1,3}(?:([.,' ])\d{3})*([.,])(\d{2})(?![\d.,%])/g)) {
    if (match[1] && match[1] === match[2]) continue;
    if (match[2] === ',') comma++;
    else point++;
  }
  if (comma === 0 && point === 0) return undefined;
  return comma > point ? ',' : '.';
}

const MONTHS: Record<string, number> = {};
const MONTH_NAMES: string[][] = [
  // EN, DE, FR, IT, NL, ES, PL (genitive) — full names and common abbreviations.
  [
    'january',
    'jan',
    'januar',
    'jänner',
    'janvier',
    'janv',
    'gennaio',
    'genn',
    'gen',
    'januari',
    'enero',
    'ene',
    'stycznia',
  ],
  [
    'february',
    'feb',
    'februar',
    'février',
    'fevrier',
    'févr',
    'fevr',
    'febbraio',
    'februari',
    'febrero',
    'lutego',
  ],
  ['march', 'mar', 'märz', 'maerz', 'mars', 'marzo', 'maart', 'mrt', 'marca'],
  ['april', 'apr', 'avril', 'avr', 'aprile', 'abril', 'abr', 'kwietnia'],
  ['may', 'mai', 'maggio', 'mag', 'mei', 'mayo', 'maja'],
  ['june', 'jun', 'juni', 'juin', 'giugno', 'giu', 'junio', 'czerwca'],
  ['july', 'jul', 'juli', 'juillet', 'juil', 'luglio', 'lug', 'julio', 'lipca'],
  ['august', 'aug', 'août', 'aout', 'agosto', 'ago', 'augustus', 'sierpnia'],
  ['september', 'sep', 'sept', 'septembre', 'settembre', 'set', 'septiembre', 'września'],
  ['october', 'oct', 'oktober', 'okt', 'octobre', 'ottobre', 'ott', 'octubre', 'października'],
  ['november', 'nov', 'novembre', 'noviembre', 'listopada'],
  [
    'december',
    'dec',
    'dezember',
    'dez',
    'décembre',
    'decembre',
    'déc',
    'dicembre',
    'dic',
    'diciembre',
    'grudnia',
  ],
];
MONTH_NAMES.forEach((names, index) => {
  for (const name of names) MONTHS[name] = index + 1;
});
const MONTH_PATTERN = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|');

function iso(year: number, month: number, day: number): string | undefined {
  if (year < 100) year += year < 70 ? 2000 : 1900;
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1970 || year > 2100) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return undefined;
  return date.toISOString().slice(0, 10);
}

export interface ParsedDate {
  value: string;
  /** True when day and month could be swapped and `order` decided. */
  ambiguous: boolean;
  /** The text matched. */
  raw: string;
}

const NUMERIC_DATE = /(?<!\d)(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})(?!\d)/;
const NAMED_DATE_DMY = new RegExp(
  `(?<!\\d)(\\d{1,2})\\.?(?:st|nd|rd|th|er)?[\\s\\-/]*(${MONTH_PATTERN})\\.?,?[\\s\\-/]*(\\d{4}|\\d{2})(?!\\d)`,
  'i',
);
const NAMED_DATE_MDY = new RegExp(
  `(?<![\\p{L}])(${MONTH_PATTERN})\\.?\\s*(\\d{1,2})(?:st|nd|rd|th)?\\s*,?\\s*(\\d{4})(?!\\d)`,
  'iu',
);
const COMPACT_DATE = /(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)/;

/**
 * The first date in the text: ISO, numeric with `.`/`/`/`-` (the order of day and month from
 * `order` when both are ≤ 12; a value over 12 settles it), or with a month name in one of the
 * supported languages ("7. Mai 2014", "August 3, 2014", "19 april 2014", "3 août 2014").
 */
export function parseDate(text: string, order: DateOrder = 'DMY'): ParsedDate | undefined {
  const candidates: { index: number; parsed: ParsedDate }[] = [];
  const numeric = NUMERIC_DATE.exec(text);
  if (numeric) {
    const [raw, a, , b, c] = numeric;
    const [first, second, third] = [Number(a), Number(b), Number(c)];
    let value: string | undefined;
    let ambiguous = false;
    if (a!.length === 4) value = iso(first, second, third);
    else if (c!.length === 4 || c!.length === 2) {
      if (first > 12 && second <= 12) value = iso(third, second, first);
      else if (second > 12 && first <= 12) value = iso(third, first, second);
      else {
        ambiguous = first !== second;
        value = order === 'MDY' ? iso(third, first, second) : iso(third, second, first);
      }
    }
    if (value) candidates.push({ index: numeric.index, parsed: { value, ambiguous, raw: raw } });
  }
  const named = NAMED_DATE_DMY.exec(text);
  if (named) {
    const value = iso(Number(named[3]), MONTHS[named[2]!.toLowerCase()]!, Number(named[1]));
    if (value) candidates.push({ index: named.index, parsed: { value, ambiguous: false, raw: named[0] } });
  }
  const namedUs = NAMED_DATE_MDY.exec(text);
  if (namedUs) {
    const value = iso(Number(namedUs[3]), MONTHS[namedUs[1]!.toLowerCase()]!, Number(namedUs[2]));
    if (value)
      candidates.push({ index: namedUs.index, parsed: { value, ambiguous: false, raw: namedUs[0] } });
  }
  const compact = COMPACT_DATE.exec(text);
  if (compact && candidates.length === 0) {
    const value = iso(Number(compact[1]), Number(compact[2]), Number(compact[3]));
    if (value)
      candidates.push({ index: compact.index, parsed: { value, ambiguous: false, raw: compact[0] } });
  }
  candidates.sort((x, y) => x.index - y.index);
  return candidates[0]?.parsed;
}

/** The date `days` after an ISO date. */
export function addDays(isoDate: string, days: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** A tax id without spaces, dots, dashes or slashes, upper case. */
export function normaliseTaxId(text: string): string {
  return text.replace(/[\s.\-/]/g, '').toUpperCase();
}

/** Whether two amounts are equal up to rounding: 1 cent, or 0.5 % of the larger for big values. */
export function amountsAgree(a: number, b: number, relative = 0.005): boolean {
  return Math.abs(a - b) <= Math.max(0.011, relative * Math.max(Math.abs(a), Math.abs(b)) * 0.2);
}

export function round(value: number, decimals = 2): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
