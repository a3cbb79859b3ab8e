import { Type } from 'typebox';

const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Uuid = Type.String({ format: 'uuid' });
const IsoDate = (description = 'YYYY-MM-DD') => Type.String({ format: 'date', description });

export const METHOD_DESCRIPTION =
  'The model the rolling-origin backtest chose: `seasonal_naive` (each day repeats the same weekday a week before), `mstl_ets` (MSTL seasonal decomposition with an exponential-smoothing trend), `tsb` (Teunter–Syntetos–Babai, for intermittent demand), or `mean` (too little history to backtest: the average of what there is)';

export const ACCURACY_DESCRIPTION =
  'From the rolling-origin backtest (forecasts made at earlier points of the history and compared with what then sold), never from the in-sample fit. `mape`: mean absolute percentage error in percent over days with sales (null when none had any); `rmse`: root mean square error in units; `mase`: mean absolute error divided by that of weekly seasonal naive on the same days (below 1 beats it; null without a baseline); `bias`: mean of forecast − actual (positive = over-forecasting). Null when there was too little history to backtest.';

const Factor = Type.Object({
  name: Type.Unsafe<string>({
    type: 'string',
    enum: ['weekday', 'season', 'trend', 'holiday', 'promotion'],
    description: 'What moves the day’s demand',
  }),
  impact: Type.Number({
    description:
      'Multiplicative effect minus one: +0.25 raises the day’s demand by 25%, −0.1 lowers it by 10%',
  }),
});

const Interval = Type.Object({
  confidence: Type.Number({ description: 'Probability mass inside the interval (0.8 or 0.95)' }),
  lower: Type.Number(),
  upper: Type.Number(),
});

export const DailyPrediction = Type.Object({
  date: IsoDate(),
  predictedDemand: Type.Number({
    description: 'Expected units sold that day (not rounded: 0.4 a day is 2.8 a week)',
  }),
  confidence: Type.Number({
    description:
      'The probability mass of the interval [lowerBound, upperBound]: 0.8 (the 95% interval is in `intervals`)',
  }),
  lowerBound: Type.Number({ description: 'Lower end of the 80% prediction interval' }),
  upperBound: Type.Number({ description: 'Upper end of the 80% prediction interval' }),
  intervals: Type.Array(Interval, { description: 'The 80% and the 95% prediction intervals' }),
  factors: Type.Array(Factor),
});

export const Accuracy = nullable(
  Type.Object(
    {
      mape: nullable(Type.Number()),
      rmse: Type.Number(),
      mase: nullable(Type.Number()),
      bias: Type.Number(),
      origins: Type.Integer({ description: 'Backtest origins' }),
      horizon: Type.Integer({ description: 'Days forecast from each origin' }),
      points: Type.Integer({ description: 'Days scored (stock-out days are not)' }),
    },
    { description: ACCURACY_DESCRIPTION },
  ),
);

const Candidate = Type.Object({
  method: Type.String(),
  mase: nullable(Type.Number()),
  rmse: Type.Number(),
});

export const DemandForecastBody = Type.Object(
  {
    itemIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 200, uniqueItems: true })),
    categories: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
      }),
    ),
    horizon: Type.Integer({ minimum: 1, maximum: 90, description: 'Days to forecast, from today' }),
    includeSeasonality: Type.Boolean({
      default: true,
      description:
        'Model the weekly (and, with two years of history, yearly) pattern; false: level and trend only',
    }),
    includePromotions: Type.Boolean({
      default: true,
      description: 'Learn promotion lift from history and apply the promotion calendar to the days ahead',
    }),
  },
  { additionalProperties: false },
);

export const ItemForecast = Type.Object({
  itemId: Uuid,
  itemName: Type.String(),
  method: Type.String({ description: METHOD_DESCRIPTION }),
  methodReason: Type.String({ description: 'Why this method, in words (and "too little history" when so)' }),
  insufficientHistory: Type.Boolean(),
  historyDays: Type.Integer({
    description: 'Days of history used, from the item’s first movement (at most 730)',
  }),
  censoredDays: Type.Integer({
    description: 'Days the item was out of stock: their sales are not demand, so the model leaves them out',
  }),
  predictions: Type.Array(DailyPrediction),
  accuracy: Accuracy,
  candidates: Type.Array(Candidate, { description: 'Every model the backtest tried, with its scores' }),
});

export const DemandForecastResponse = Type.Object({ forecasts: Type.Array(ItemForecast) });

export const ReorderPolicy = nullable(
  Type.Object(
    {
      reorderPoint: Type.Number({ description: 'At or below it (on hand + on order), order now' }),
      orderUpTo: Type.Number({ description: 'What on hand + on order should reach after ordering' }),
      safetyStock: Type.Number(),
      leadTimeDemand: Type.Number(),
      cycleDemand: Type.Number({ description: 'Expected demand over lead time + review period' }),
      serviceLevel: Type.Number({ description: 'Target: the store setting' }),
      achievedServiceLevel: Type.Number({ description: 'What orderUpTo gives once capped by shelf life' }),
      leadTimeDays: Type.Number(),
      reviewPeriodDays: Type.Number(),
      shelfLifeDays: nullable(Type.Number()),
      cappedByShelfLife: Type.Boolean({
        description:
          'True when holding orderUpTo would mean stock expiring before it sells: it is capped at the expected demand over lead time + shelf life',
      }),
      shelfLifeCap: nullable(Type.Number()),
      leadTimeFrom: Type.String({ description: '`vendor catalogue` or `store default`' }),
    },
    { description: 'The reorder policy from the stored forecast; null before the first forecast' },
  ),
);

export const StoredForecastResponse = Type.Object({
  itemId: Uuid,
  itemName: Type.String(),
  computedAt: Type.String({ format: 'date-time' }),
  historyThrough: IsoDate('The last day of history used'),
  historyDays: Type.Integer(),
  method: Type.String({ description: METHOD_DESCRIPTION }),
  methodReason: Type.String(),
  insufficientHistory: Type.Boolean(),
  horizon: Type.Integer(),
  predictions: Type.Array(DailyPrediction),
  accuracy: Accuracy,
  candidates: Type.Array(Candidate),
  reorderPolicy: ReorderPolicy,
});

export const ItemIdParams = Type.Object({ itemId: Uuid }, { additionalProperties: false });

export const PERIOD_LIMITS = { week: 52, month: 12, quarter: 4 } as const;

export const ForecastingQuery = Type.Object(
  {
    itemId: Type.Optional(Uuid),
    category: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    period: Type.Unsafe<'week' | 'month' | 'quarter'>({
      type: 'string',
      enum: ['week', 'month', 'quarter'],
      description: 'Calendar weeks (Monday first), months or quarters; the first one starts today',
    }),
    horizon: Type.Integer({
      minimum: 1,
      maximum: 52,
      description: 'Periods to forecast: at most 52 weeks, 12 months or 4 quarters',
    }),
  },
  { additionalProperties: false },
);

export const ForecastingResponse = Type.Object({
  forecasts: Type.Array(
    Type.Object({
      itemId: Uuid,
      itemName: Type.String(),
      method: Type.String({ description: METHOD_DESCRIPTION }),
      predictions: Type.Array(
        Type.Object({
          period: Type.String({ description: 'e.g. 2026-W49, 2026-12, 2026-Q4' }),
          from: IsoDate('First day counted (today for the first period)'),
          to: IsoDate('Last day counted'),
          predictedDemand: Type.Number(),
          confidence: Type.Number({ description: 'Probability mass of [lowerBound, upperBound]: 0.8' }),
          lowerBound: Type.Number(),
          upperBound: Type.Number(),
          intervals: Type.Array(Interval),
          factors: Type.Array(Type.String(), {
            description: 'Factors moving the period’s demand by 5% or more, e.g. "holiday +12%"',
          }),
        }),
      ),
    }),
  ),
});
