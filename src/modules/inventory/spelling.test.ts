import { describe, expect, it } from 'vitest';
import { correctSearch, correctWord } from './spelling.ts';

const vocabulary = new Set([
  'orange',
  'juice',
  'organic',
  'milk',
  'chicken',
  'chickpeas',
  'ground',
  'beef',
  'cream',
  'ice',
  'yogurt',
  'bananas',
]);

describe('spelling correction against a store vocabulary', () => {
  it.each([
    ['ornage', 'orange'], // swapped neighbours: one edit
    ['mlik', 'milk'],
    ['gruond', 'ground'],
    ['yoghurt', 'yogurt'], // one letter too many
    ['bananna', 'bananas'], // two edits on a long word
    ['chcik', 'chicken'], // the start of a longer word, mistyped
  ])('corrects %s to %s', (typed, expected) => {
    expect(correctWord(typed, vocabulary)).toBe(expected);
  });

  it('leaves known, short and hopeless words alone', () => {
    expect(correctWord('milk', vocabulary)).toBe('milk');
    expect(correctWord('ic', vocabulary)).toBe('ic');
    expect(correctWord('xqzvw', vocabulary)).toBe('xqzvw');
  });

  it('prefers a whole word to a prefix at equal distance, then the shorter word', () => {
    // 'chick' is a prefix of both; neither is a whole-word match: the shorter wins.
    expect(correctWord('chikc', vocabulary)).toBe('chicken');
  });

  it('says when nothing changed, so the caller does not search again for nothing', () => {
    expect(correctSearch(['ornage', 'juice'], vocabulary)).toEqual(['orange', 'juice']);
    expect(correctSearch(['orange', 'juice'], vocabulary)).toBeNull();
  });
});
