export { DEFAULT_MAX_PAGES, extractInvoice } from './extract.ts';
export { type Corrections, learnHints } from './hints.ts';
export * from './types.ts';
