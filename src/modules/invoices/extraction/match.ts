/** Matching printed labels against label tables, word by word. */

export interface Token {
  text: string;
  index: number;
  end: number;
}

/** Words of a text (letters, digits, %, °; `#` on its own), lower case, with their offsets. */
export function tokens(raw: string): Token[] {
  return [...raw.matchAll(/[\p{L}\p{N}%°º]+|#/gu)].map((match) => ({
    text: match[0].toLowerCase(),
    index: match.index,
    end: match.index + match[0].length,
  }));
}

export interface LabelMatch<K extends string> {
  key: K;
  label: string;
  weight: number;
  /** Words of the text the label took. */
  words: number;
  /** The raw text after the label, separators (":", "#", "-") trimmed. */
  remainder: string;
}

export class LabelMatcher<K extends string> {
  readonly #entries: { key: K; label: string; words: string[]; weight: number }[] = [];

  constructor(
    table: Partial<Record<K, [string, number][]>>,
    extra?: Partial<Record<K, string[]>>,
    extraWeight = 1.2,
  ) {
    for (const [key, labels] of Object.entries(extra ?? {}) as [K, string[]][]) {
      for (const label of labels) this.#add(key, label, extraWeight);
    }
    for (const [key, labels] of Object.entries(table) as [K, [string, number][]][]) {
      for (const [label, weight] of labels) this.#add(key, label, weight);
    }
    // Longest labels first: "invoice date" must win over "invoice".
    this.#entries.sort((a, b) => b.words.length - a.words.length);
  }

  #add(key: K, label: string, weight: number): void {
    const words = tokens(label).map((token) => token.text);
    if (words.length) this.#entries.push({ key, label, words, weight });
  }

  /**
   * Labels the text starts with: the longest, and any other of the same length (one label can
   * name two fields, as "VAT" does the tax amount and the tax id). Case and punctuation are ignored.
   */
  matchStart(raw: string, from = 0): LabelMatch<K>[] {
    const words = tokens(raw).slice(from);
    const found: LabelMatch<K>[] = [];
    let length = 0;
    for (const entry of this.#entries) {
      if (entry.words.length < length) break;
      if (entry.words.length > words.length) continue;
      if (!entry.words.every((word, i) => words[i]!.text === word)) continue;
      if (found.some((match) => match.key === entry.key)) continue;
      length = entry.words.length;
      const last = words[entry.words.length - 1]!;
      found.push({
        key: entry.key,
        label: entry.label,
        weight: entry.weight,
        words: entry.words.length,
        remainder: raw
          .slice(last.end)
          .replace(/^[\s:#.\-–=)\]]+/, '')
          .trim(),
      });
    }
    return found;
  }

  /** Every label in a sequence of words, greedy longest-first from the left: for table headers. */
  matchAll(raw: string): { key: K; label: string; weight: number; from: number; to: number }[] {
    const words = tokens(raw);
    const found: { key: K; label: string; weight: number; from: number; to: number }[] = [];
    let i = 0;
    while (i < words.length) {
      const entry = this.#entries.find(
        (candidate) =>
          candidate.words.length <= words.length - i &&
          candidate.words.every((word, k) => words[i + k]!.text === word),
      );
      if (entry) {
        found.push({
          key: entry.key,
          label: entry.label,
          weight: entry.weight,
          from: words[i]!.index,
          to: words[i + entry.words.length - 1]!.end,
        });
        i += entry.words.length;
      } else i++;
    }
    return found;
  }
}
