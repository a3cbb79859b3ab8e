import { Type } from 'typebox';

const IsoDate = (description = 'YYYY-MM-DD') => Type.String({ format: 'date', description });
const Uuid = Type.String({ format: 'uuid' });

export const Promotion = Type.Object({
  id: Uuid,
  name: Type.String(),
  itemId: Type.Union([Uuid, Type.Null()], {
    description: 'The item on promotion, or null for a whole category',
  }),
  category: Type.Union([Type.String(), Type.Null()], {
    description: 'The category on promotion, or null for one item',
  }),
  startsOn: IsoDate('First day (store-local)'),
  endsOn: IsoDate('Last day, inclusive'),
  discountPercent: Type.Number({ description: 'Price reduction in percent of the regular price' }),
  notes: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const promotionFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  itemId: Type.Optional(Type.Union([Uuid, Type.Null()], { description: 'One item (give this or category)' })),
  category: Type.Optional(
    Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()], {
      description: 'A whole category, matched ignoring case and outer spaces (give this or itemId)',
    }),
  ),
  startsOn: IsoDate('First day (store-local)'),
  endsOn: IsoDate('Last day, inclusive; at most 366 days after startsOn'),
  discountPercent: Type.Number({
    minimum: 0.01,
    maximum: 100,
    description: 'Price reduction in percent (0.01–100)',
  }),
  notes: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
};

export const CreatePromotionBody = Type.Object(promotionFields, { additionalProperties: false });
export const UpdatePromotionBody = Type.Partial(Type.Object(promotionFields), {
  additionalProperties: false,
  minProperties: 1,
});

export const PromotionParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const PromotionListQuery = Type.Object(
  {
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    itemId: Type.Optional(Uuid),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    from: Type.Optional(IsoDate('Promotions still running on or after this day')),
    to: Type.Optional(IsoDate('Promotions starting on or before this day')),
  },
  { additionalProperties: false },
);
