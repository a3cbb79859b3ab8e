/**
 * The demo store's catalogue and six months of simulated trading, generated deterministically
 * (a seeded PRNG): a few hundred items across fresh and ambient categories, each with a daily
 * demand that has a weekly rhythm and noise, restocked from vendors when it falls to its reorder
 * point, sold first-expiring-first, with expired leftovers written off as waste.
 */

export interface DemoVendor {
  key: string;
  name: string;
  /** Printed terms, as a vendor record holds them: the due date of an invoice that names none. */
  paymentTerms: string;
}

export const DEMO_VENDORS: DemoVendor[] = [
  { key: 'produce', name: 'Green Fields Produce', paymentTerms: 'Net 14' },
  { key: 'dairy', name: 'Valley Dairy Co-op', paymentTerms: 'Net 30' },
  { key: 'meat', name: 'Heritage Meats', paymentTerms: 'Net 21' },
  { key: 'bakery', name: 'Sunrise Bakery', paymentTerms: 'Net 7' },
  { key: 'pantry', name: 'Pantry Wholesale', paymentTerms: 'Net 45' },
  { key: 'frozen', name: 'Polar Frozen Foods', paymentTerms: 'Net 30' },
  { key: 'organic', name: 'Organic Growers Collective', paymentTerms: 'Net 30' },
];

interface CategorySpec {
  category: string;
  department: string;
  vendor: string;
  location: string;
  shelfLifeDays: [number, number];
  dailyDemand: [number, number];
  unitCost: [number, number];
  markup: number;
  products: string[];
  variants: string[];
}

const CATEGORIES: CategorySpec[] = [
  {
    category: 'Produce',
    department: 'Fresh',
    vendor: 'produce',
    location: 'Produce floor',
    shelfLifeDays: [5, 14],
    dailyDemand: [4, 30],
    unitCost: [0.3, 2.5],
    markup: 1.8,
    products: [
      'Bananas',
      'Gala Apples',
      'Granny Smith Apples',
      'Pears',
      'Oranges',
      'Lemons',
      'Limes',
      'Strawberries',
      'Blueberries',
      'Raspberries',
      'Grapes',
      'Avocados',
      'Tomatoes',
      'Cherry Tomatoes',
      'Cucumbers',
      'Carrots',
      'Potatoes',
      'Sweet Potatoes',
      'Onions',
      'Red Onions',
      'Garlic',
      'Broccoli',
      'Cauliflower',
      'Spinach',
      'Kale',
      'Romaine Lettuce',
      'Iceberg Lettuce',
      'Bell Peppers',
      'Zucchini',
      'Mushrooms',
      'Celery',
      'Leeks',
      'Asparagus',
      'Green Beans',
      'Peaches',
    ],
    variants: ['', 'Organic '],
  },
  {
    category: 'Dairy',
    department: 'Chilled',
    vendor: 'dairy',
    location: 'Cooler 1',
    shelfLifeDays: [10, 30],
    dailyDemand: [3, 25],
    unitCost: [0.6, 4.5],
    markup: 1.5,
    products: [
      'Whole Milk 1L',
      'Semi-Skimmed Milk 1L',
      'Skimmed Milk 1L',
      'Greek Yogurt 500g',
      'Plain Yogurt 500g',
      'Strawberry Yogurt 4-pack',
      'Butter 250g',
      'Cheddar 200g',
      'Mozzarella 125g',
      'Parmigiano 200g',
      'Ricotta 250g',
      'Feta 200g',
      'Cream Cheese 200g',
      'Double Cream 300ml',
      'Sour Cream 300ml',
      'Eggs 6-pack',
      'Eggs 12-pack',
      'Kefir 500ml',
      'Oat Drink 1L',
      'Gorgonzola 150g',
      'Goat Cheese 150g',
      'Mascarpone 250g',
      'Cottage Cheese 300g',
      'Chocolate Milk 500ml',
    ],
    variants: ['', 'Organic '],
  },
  {
    category: 'Meat',
    department: 'Fresh',
    vendor: 'meat',
    location: 'Butcher counter',
    shelfLifeDays: [3, 7],
    dailyDemand: [2, 14],
    unitCost: [2.5, 14],
    markup: 1.45,
    products: [
      'Chicken Breast 500g',
      'Chicken Thighs 1kg',
      'Whole Chicken',
      'Ground Beef 500g',
      'Beef Steak 300g',
      'Pork Chops 500g',
      'Pork Sausages 400g',
      'Bacon 200g',
      'Lamb Chops 400g',
      'Turkey Mince 500g',
      'Salmon Fillet 250g',
      'Cod Fillet 300g',
      'Prawns 200g',
      'Prosciutto 100g',
      'Salami 150g',
      'Ham 150g',
      'Meatballs 400g',
      'Beef Burgers 4-pack',
      'Chicken Wings 1kg',
      'Veal Escalopes 300g',
    ],
    variants: ['', 'Free-range '],
  },
  {
    category: 'Bakery',
    department: 'Bakery',
    vendor: 'bakery',
    location: 'Bakery aisle',
    shelfLifeDays: [2, 5],
    dailyDemand: [3, 20],
    unitCost: [0.4, 3.5],
    markup: 2.2,
    products: [
      'Sourdough Loaf',
      'Whole Wheat Bread',
      'White Sandwich Bread',
      'Rye Bread',
      'Baguette',
      'Ciabatta',
      'Croissants 4-pack',
      'Pain au Chocolat 4-pack',
      'Bagels 5-pack',
      'Brioche Buns',
      'Focaccia',
      'Blueberry Muffins 4-pack',
      'Cinnamon Rolls',
      'Dinner Rolls 6-pack',
      'Pita Bread',
      'Tortilla Wraps',
      'Carrot Cake Slice',
    ],
    variants: ['', 'Seeded '],
  },
  {
    category: 'Frozen',
    department: 'Frozen',
    vendor: 'frozen',
    location: 'Freezer 2',
    shelfLifeDays: [90, 365],
    dailyDemand: [1, 9],
    unitCost: [1, 6],
    markup: 1.6,
    products: [
      'Frozen Peas 1kg',
      'Mixed Vegetables 1kg',
      'Sweetcorn 1kg',
      'Spinach Portions',
      'Margherita Pizza',
      'Pepperoni Pizza',
      'Fish Fingers',
      'Chicken Nuggets',
      'Vanilla Ice Cream 1L',
      'Chocolate Ice Cream 1L',
      'Frozen Berries 500g',
      'French Fries 1kg',
      'Vegetable Lasagne',
      'Dumplings 500g',
      'Frozen Prawns 400g',
      'Hash Browns',
    ],
    variants: ['', 'Family '],
  },
];

/** Ambient groceries come from the bundled catalogue (real products and barcodes). */
const DRY_GOODS: Omit<CategorySpec, 'products' | 'variants'> = {
  category: 'Dry goods',
  department: 'Grocery',
  vendor: 'pantry',
  location: 'Aisle 4',
  shelfLifeDays: [180, 720],
  dailyDemand: [1, 10],
  unitCost: [0.5, 6],
  markup: 1.4,
};

export interface DemoItem {
  description: string;
  category: string;
  department: string;
  brand: string | null;
  itemSku: string;
  itemUpc: string | null;
  location: string;
  aisle: string;
  vendorKey: string;
  unitCost: number;
  unitRetail: number;
  reorderPoint: number;
  parLevel: number;
  shelfLifeDays: number;
  baseDemand: number;
}

/** mulberry32: small, fast, good enough for demo data, and the same sequence every time. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const money = (value: number) => Math.round(value * 100) / 100;

export function demoItems(
  catalogue: Array<{ name: string; brand: string; gtin: string }>,
  random = prng(20261124),
): DemoItem[] {
  const between = ([low, high]: [number, number]) => low + random() * (high - low);
  const items: DemoItem[] = [];
  const add = (
    spec: Omit<CategorySpec, 'products' | 'variants'>,
    description: string,
    brand: string | null,
    upc: string | null,
  ) => {
    const baseDemand = Math.max(0.5, Math.round(between(spec.dailyDemand) * 10) / 10);
    const shelfLifeDays = Math.round(between(spec.shelfLifeDays));
    const unitCost = money(between(spec.unitCost));
    // Enough for a few days of sales, or a fortnight for long-life goods.
    const coverDays = Math.min(14, Math.max(2, Math.round(shelfLifeDays / 3)));
    const reorderPoint = Math.max(2, Math.ceil(baseDemand * Math.min(3, coverDays / 2)));
    items.push({
      description,
      category: spec.category,
      department: spec.department,
      brand,
      itemSku: `${spec.category.slice(0, 3).toUpperCase()}-${String(items.length + 1).padStart(4, '0')}`,
      itemUpc: upc,
      location: spec.location,
      aisle: String(1 + Math.floor(random() * 8)),
      vendorKey: spec.vendor,
      unitCost,
      unitRetail: money(unitCost * spec.markup),
      reorderPoint,
      parLevel: reorderPoint + Math.ceil(baseDemand * coverDays),
      shelfLifeDays,
      baseDemand,
    });
  };
  for (const spec of CATEGORIES) {
    for (const product of spec.products) {
      for (const variant of spec.variants) {
        if (variant && random() < 0.45) continue;
        add(
          { ...spec, vendor: variant === 'Organic ' ? 'organic' : spec.vendor },
          `${variant}${product}`,
          null,
          null,
        );
      }
    }
  }
  for (const product of catalogue.slice(0, 90)) {
    add(DRY_GOODS, product.name, product.brand || null, product.gtin.replace(/^0/, ''));
  }
  return items;
}

export interface SimulatedLot {
  quantity: number;
  initialQuantity: number;
  expirationDate: string;
  receivedDate: string;
  unitCost: number;
  index: number;
}

export interface SimulatedMovement {
  type: 'receipt' | 'sale' | 'waste';
  reason: 'received' | 'sold' | 'expired';
  quantity: number;
  stockBefore: number;
  stockAfter: number;
  day: string;
  lots: Array<{ lot: number; quantity: number }>;
}

const addDays = (date: string, days: number) => {
  const next = new Date(`${date}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + days);
  return next.toISOString().slice(0, 10);
};

/**
 * The trading days from `days - 1` days ago to yesterday, each with its demand rhythm (busier
 * Friday to Sunday, quieter Monday): the same for every item, so worked out once per seed
 * rather than for each of a few hundred items (it was a third of the simulation's time).
 */
let calendarOf: { key: string; days: Array<{ day: string; rhythm: number }> } | undefined;
function tradingDays(today: string, days: number) {
  const key = `${today}/${days}`;
  if (calendarOf?.key !== key) {
    const list: Array<{ day: string; rhythm: number }> = [];
    for (let offset = days - 1; offset >= 1; offset--) {
      const day = addDays(today, -offset);
      const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
      list.push({ day, rhythm: weekday === 0 || weekday >= 5 ? 1.35 : weekday === 1 ? 0.8 : 1 });
    }
    calendarOf = { key, days: list };
  }
  return calendarOf.days;
}

/**
 * Trades one item from `days` ago up to yesterday: each morning expired lots are written off,
 * then stock at or below the reorder point is topped up to par with a fresh lot, then the day's
 * demand (weekly rhythm: busier Friday to Sunday) is sold first-expiring-first.
 * Stock is kept as a running total and the lots with stock in their own list (in the order they
 * were received), so a day's work does not walk every lot the item ever had; quantities are
 * whole units, so the total is exact.
 */
export function simulateItem(item: DemoItem, today: string, days: number, random: () => number) {
  const lots: SimulatedLot[] = [];
  /** The lots with stock, in received order. */
  let live: SimulatedLot[] = [];
  const movements: SimulatedMovement[] = [];
  let stock = 0;
  const receive = (day: string, quantity: number) => {
    const before = stock;
    const lot: SimulatedLot = {
      quantity,
      initialQuantity: quantity,
      expirationDate: addDays(day, item.shelfLifeDays),
      receivedDate: day,
      unitCost: item.unitCost,
      index: lots.length,
    };
    lots.push(lot);
    live.push(lot);
    stock += quantity;
    movements.push({
      type: 'receipt',
      reason: 'received',
      quantity,
      stockBefore: before,
      stockAfter: before + quantity,
      day,
      lots: [{ lot: lot.index, quantity }],
    });
  };
  receive(addDays(today, -days), item.parLevel);
  for (const { day, rhythm } of tradingDays(today, days)) {
    let expired = false;
    for (const lot of live) {
      if (lot.expirationDate <= day) {
        const before = stock;
        movements.push({
          type: 'waste',
          reason: 'expired',
          quantity: -lot.quantity,
          stockBefore: before,
          stockAfter: before - lot.quantity,
          day,
          lots: [{ lot: lot.index, quantity: -lot.quantity }],
        });
        stock -= lot.quantity;
        lot.quantity = 0;
        expired = true;
      }
    }
    if (expired) live = live.filter((lot) => lot.quantity > 0);
    if (stock <= item.reorderPoint) receive(day, item.parLevel - stock);
    let wanted = Math.round(item.baseDemand * rhythm * (0.6 + random() * 0.8));
    const before = stock;
    wanted = Math.min(wanted, before);
    if (wanted <= 0) continue;
    const touched: Array<{ lot: number; quantity: number }> = [];
    let remaining = wanted;
    // Array.prototype.sort is stable: lots expiring the same day go in received order.
    for (const lot of [...live].sort((a, b) => a.expirationDate.localeCompare(b.expirationDate))) {
      if (remaining === 0) break;
      const take = Math.min(remaining, lot.quantity);
      lot.quantity -= take;
      remaining -= take;
      touched.push({ lot: lot.index, quantity: -take });
    }
    stock -= wanted;
    live = live.filter((lot) => lot.quantity > 0);
    movements.push({
      type: 'sale',
      reason: 'sold',
      quantity: -wanted,
      stockBefore: before,
      stockAfter: before - wanted,
      day,
      lots: touched,
    });
  }
  return { lots, movements, stock };
}
