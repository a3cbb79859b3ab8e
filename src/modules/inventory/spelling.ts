import levenshtein from 'damerau-levenshtein';

/**
 * Spelling correction for search: each searched word not in the store's vocabulary is replaced by
 * the closest vocabulary word, by Damerau-Levenshtein distance (a swap of two neighbouring
 * letters is one edit, so 'ornage' is one edit from 'orange'). A word may also be the start of a
 * longer one typed with a slip ('chcik' → 'chicken'), so the distance to a word's same-length
 * prefix counts too. Short words are left alone: at two letters every correction is a guess.
 */

/** Edits allowed for a word of this length: 1 up to 5 letters, 2 beyond. */
const allowedEdits = (length: number) => (length <= 5 ? 1 : 2);
const MIN_LENGTH = 3;

export function correctWord(word: string, vocabulary: ReadonlySet<string>): string {
  if (word.length < MIN_LENGTH || vocabulary.has(word)) return word;
  const allowed = allowedEdits(word.length);
  // Ranked by fewest edits, then a whole-word match before a prefix one, then shorter, then A-Z.
  let best: { word: string; rank: [number, number, number] } | undefined;
  for (const candidate of vocabulary) {
    const whole =
      Math.abs(candidate.length - word.length) <= allowed ? levenshtein(word, candidate).steps : Infinity;
    const prefix =
      candidate.length > word.length ? levenshtein(word, candidate.slice(0, word.length)).steps : Infinity;
    const edits = Math.min(whole, prefix);
    if (edits > allowed) continue;
    const rank: [number, number, number] = [edits, whole <= prefix ? 0 : 1, candidate.length];
    const order = best ? compareRanks(rank, best.rank) || candidate.localeCompare(best.word) : -1;
    if (order < 0) best = { word: candidate, rank };
  }
  return best?.word ?? word;
}

function compareRanks(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The search's words, each corrected; null when nothing changed (so there is nothing new to try). */
export function correctSearch(words: string[], vocabulary: ReadonlySet<string>): string[] | null {
  const corrected = words.map((word) => correctWord(word, vocabulary));
  return corrected.some((word, index) => word !== words[index]) ? corrected : null;
}
