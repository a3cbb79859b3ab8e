import type { LayoutCell, LayoutRow } from './types.ts';

/** One piece of text on a page as PDF.js gives it: left, right and top in points from the top left. */
export interface TextItem {
  page: number;
  x0: number;
  x1: number;
  y: number;
  height: number;
  text: string;
}

/**
 * Rows and cells from positioned text. Items whose vertical centres are within half a line height
 * share a row; within a row, items closer than about a space's width join into one cell (a PDF
 * often splits a word or a label into several items), wider gaps start a new cell (a column).
 */
export function buildRows(items: TextItem[]): LayoutRow[] {
  const rows: LayoutRow[] = [];
  const byPage = new Map<number, TextItem[]>();
  for (const item of items) {
    if (!item.text.trim()) continue;
    const list = byPage.get(item.page) ?? [];
    list.push(item);
    byPage.set(item.page, list);
  }
  for (const [page, pageItems] of [...byPage.entries()].sort((a, b) => a[0] - b[0])) {
    pageItems.sort((a, b) => a.y + a.height / 2 - (b.y + b.height / 2));
    const groups: TextItem[][] = [];
    for (const item of pageItems) {
      const centre = item.y + item.height / 2;
      const group = groups.at(-1);
      if (group) {
        const groupCentre = group.reduce((sum, g) => sum + g.y + g.height / 2, 0) / group.length;
        const height = Math.max(...group.map((g) => g.height), item.height);
        if (Math.abs(centre - groupCentre) <= height * 0.5) {
          group.push(item);
          continue;
        }
      }
      groups.push([item]);
    }
    for (const group of groups) {
      group.sort((a, b) => a.x0 - b.x0);
      const height = Math.max(...group.map((g) => g.height));
      const cells: LayoutCell[] = [];
      for (const item of group) {
        const previous = cells.at(-1);
        const gap = previous ? item.x0 - previous.x1 : Infinity;
        // A space is about a quarter to a third of the font size; columns are further apart.
        if (previous && gap < height * 0.55) {
          const joiner = gap > height * 0.12 && !previous.text.endsWith(' ') ? ' ' : '';
          previous.text += joiner + item.text;
          previous.x1 = Math.max(previous.x1, item.x1);
        } else {
          cells.push({ x0: item.x0, x1: item.x1, text: item.text });
        }
      }
      for (const cell of cells) cell.text = cell.text.replace(/\s+/g, ' ').trim();
      rows.push({
        page,
        y: Math.min(...group.map((g) => g.y)),
        height,
        cells: cells.filter((cell) => cell.text),
      });
    }
  }
  return rows;
}

/** Points per character of a monospaced text line, so text files and OCR share the PDF scale. */
const CHAR_WIDTH = 5;
const LINE_HEIGHT = 12;

/**
 * Rows from plain text laid out with spaces (a text export, or OCR output): runs of two or more
 * spaces separate cells, and a character is CHAR_WIDTH points wide.
 */
export function rowsFromText(text: string, page = 1, firstY = 0): LayoutRow[] {
  const rows: LayoutRow[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const expanded = line.replace(/\t/g, '    ');
    const cells: LayoutCell[] = [];
    for (const match of expanded.matchAll(/\S+(?: \S+)*/g)) {
      cells.push({
        x0: match.index * CHAR_WIDTH,
        x1: (match.index + match[0].length) * CHAR_WIDTH,
        text: match[0],
      });
    }
    if (cells.length) rows.push({ page, y: firstY + index * LINE_HEIGHT, height: LINE_HEIGHT * 0.8, cells });
  });
  return rows;
}

/** The text of a row, cells joined by a wide gap marker. */
export function rowText(row: LayoutRow, separator = '  '): string {
  return row.cells.map((cell) => cell.text).join(separator);
}

/**
 * The words of a cell with their estimated positions (PDF.js gives a cell's extent, not each
 * word's): characters share the width evenly. Used for table headers whose labels were printed
 * as one text item ("Disc.% Taxes").
 */
export function cellWords(cell: LayoutCell): LayoutCell[] {
  const perChar = (cell.x1 - cell.x0) / Math.max(1, cell.text.length);
  return [...cell.text.matchAll(/\S+/g)].map((match) => ({
    x0: cell.x0 + match.index * perChar,
    x1: cell.x0 + (match.index + match[0].length) * perChar,
    text: match[0],
  }));
}
