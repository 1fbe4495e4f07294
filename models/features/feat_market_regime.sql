{{ config(
    unique_key=['date'],
    indexes=[{'columns': ['date'], 'unique': True}],
    reference=true
) }}

-- The market regime of each day as model inputs: sentiment, volatility and liquidity states, rates,
-- index/FX/crypto/commodity moves and the regime model's transition probabilities. Each day depends on its
-- own regimes row only, so a nightly run adds the new days (a day restated later than the lookback needs
-- --full-refresh); incremental rather than a table, whose nightly swap would recreate the feature store views.
with regimes as (
    select * from {{ ref('stg_regimes_daily') }}
    where {{ batch_input_filter('date') }}
),

final as (
    select
        date,

        -- sentiment and news
        sentiment_score,
        news_bullish,
        news_bearish,
        {{ safe_divide('news_bullish - news_bearish', 'news_bullish + news_bearish') }} as news_balance,
        news_count,

        -- regime states (categorical in the model)
        volatility_regime,
        liquidity_state,
        case volatility_regime
            when 'low' then 0 when 'normal' then 1 when 'high' then 2 when 'extreme' then 3
        end as volatility_regime_level,
        anomaly_count,
        prob_risk_on,
        prob_risk_off,
        prob_vol_spike,
        greatest(prob_risk_off, prob_vol_spike) as max_risk_probability,
        -- known at the end of the day: releases are scheduled in advance
        next_scheduled_event_date - date as days_to_next_event,

        -- rates
        fed_funds_rate,
        treasury_10y - treasury_2y as yield_curve_spread,

        -- markets
        spx_return,
        ndx_return,
        -eurusd_return as dollar_strength,
        usdjpy_return,
        gold_return,
        oil_return,
        btc_return,
        btc_volatility,
        spx_volatility
    from regimes
)

select * from final
