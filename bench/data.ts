import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { prng } from '../src/modules/demo/demo.data.ts';

/** Realistic-looking grocery items for the benchmark, generated deterministically. */
export const BENCH_CATEGORIES = [
  'Produce',
  'Dairy',
  'Meat',
  'Bakery',
  'Dry goods',
  'Frozen',
  'Beverages',
  'Snacks',
  'Household',
  'Deli',
];
const WORDS = {
  Produce: [
    'Apples',
    'Bananas',
    'Pears',
    'Tomatoes',
    'Carrots',
    'Spinach',
    'Grapes',
    'Lettuce',
    'Peppers',
    'Onions',
  ],
  Dairy: ['Milk', 'Yogurt', 'Butter', 'Cheddar', 'Mozzarella', 'Cream', 'Kefir', 'Ricotta', 'Feta', 'Eggs'],
  Meat: [
    'Chicken Breast',
    'Ground Beef',
    'Pork Chops',
    'Sausages',
    'Bacon',
    'Turkey',
    'Lamb',
    'Salami',
    'Ham',
    'Steak',
  ],
  Bakery: [
    'Sourdough',
    'Baguette',
    'Croissant',
    'Bagels',
    'Rye Bread',
    'Muffins',
    'Ciabatta',
    'Brioche',
    'Focaccia',
    'Rolls',
  ],
  'Dry goods': [
    'Pasta',
    'Rice',
    'Flour',
    'Oats',
    'Lentils',
    'Chickpeas',
    'Olive Oil',
    'Coffee',
    'Tea',
    'Sugar',
  ],
  Frozen: [
    'Peas',
    'Pizza',
    'Ice Cream',
    'Fish Fingers',
    'Berries',
    'Fries',
    'Dumplings',
    'Lasagne',
    'Prawns',
    'Corn',
  ],
  Beverages: [
    'Orange Juice',
    'Sparkling Water',
    'Cola',
    'Lemonade',
    'Iced Tea',
    'Apple Juice',
    'Tonic',
    'Smoothie',
    'Kombucha',
    'Cider',
  ],
  Snacks: [
    'Crisps',
    'Pretzels',
    'Chocolate Bar',
    'Cookies',
    'Crackers',
    'Popcorn',
    'Nuts',
    'Granola Bar',
    'Wafers',
    'Gummies',
  ],
  Household: [
    'Dish Soap',
    'Paper Towels',
    'Sponges',
    'Bin Bags',
    'Foil',
    'Detergent',
    'Napkins',
    'Cling Film',
    'Bleach',
    'Candles',
  ],
  Deli: [
    'Hummus',
    'Olives',
    'Pesto',
    'Coleslaw',
    'Pate',
    'Antipasti',
    'Quiche',
    'Sushi',
    'Wraps',
    'Salad Bowl',
  ],
} as const satisfies Record<(typeof BENCH_CATEGORIES)[number], readonly string[]>;
const BRANDS = [
  'Alpine',
  'Valley',
  'Sunrise',
  'Harvest',
  'Meadow',
  'Coastal',
  'Heritage',
  'Golden',
  'Evergreen',
  'Riverside',
  'Northern',
  'Orchard',
];
const QUALIFIERS = ['', 'Organic ', 'Fresh ', 'Classic ', 'Premium ', 'Family ', 'Light ', 'Wholegrain '];

export interface BenchItem {
  description: string;
  category: string;
  brand: string;
  sku: string;
}

export function benchItem(index: number, random: () => number): BenchItem {
  const category = BENCH_CATEGORIES[index % BENCH_CATEGORIES.length]!;
  const words = WORDS[category as keyof typeof WORDS];
  const word = words[Math.floor(random() * words.length)]!;
  const qualifier = QUALIFIERS[Math.floor(random() * QUALIFIERS.length)]!;
  const brand = BRANDS[Math.floor(random() * BRANDS.length)]!;
  const size = [100, 200, 250, 500, 750, 1000][Math.floor(random() * 6)];
  return {
    description: `${qualifier}${word} ${size}g`,
    category,
    brand,
    sku: `B-${String(index).padStart(7, '0')}`,
  };
}

/** Writes the benchmark CSV (streamed, like the import that reads it). Returns the file's rows. */
export async function writeBenchCsv(path: string, count: number, today: string): Promise<number> {
  const random = prng(5150);
  const out = createWriteStream(path);
  out.write('sku,description,category,brand,qty,expiry,unit_cost,unit_retail,reorder_point,location\n');
  for (let index = 0; index < count; index++) {
    const item = benchItem(index, random);
    const qty = Math.floor(random() * 200);
    const days = 1 + Math.floor(random() * 120);
    const expiry = new Date(Date.parse(`${today}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
    const cost = (0.3 + random() * 9).toFixed(2);
    const line = `${item.sku},${item.description},${item.category},${item.brand},${qty},${qty > 0 ? expiry : ''},${cost},${(Number(cost) * 1.6).toFixed(2)},${5 + Math.floor(random() * 20)},Aisle ${1 + (index % 12)}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return count;
}

/** Search terms drawn from the data, with the typos and fragments people type. */
export function searchTerms(): string[] {
  const terms: string[] = [];
  for (const words of Object.values(WORDS)) {
    for (const word of words) {
      const lower = word.toLowerCase();
      terms.push(lower, lower.slice(0, Math.max(3, lower.length - 2)));
      if (lower.length > 4) terms.push(lower.slice(0, 2) + lower[3] + lower[2] + lower.slice(4)); // swapped letters
    }
  }
  for (const brand of BRANDS)
    terms.push(`${brand.toLowerCase().slice(0, 4)} ${Object.values(WORDS)[0]![0].toLowerCase().slice(0, 3)}`);
  return terms;
}
