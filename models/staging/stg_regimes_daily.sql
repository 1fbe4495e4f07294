with regimes as (select * from {{ source('raw', 'regimes_daily') }}),

final as (
    select
        date,

        -- sentiment and news
        (news_analysis #>> '{sentiment_summary,average_score}')::double precision as sentiment_score,
        (news_analysis #>> '{sentiment_summary,distribution,bullish}')::int as news_bullish,
        (news_analysis #>> '{sentiment_summary,distribution,bearish}')::int as news_bearish,
        (news_analysis ->> 'count')::int as news_count,

        -- regime labels
        summary #>> '{key_metrics,volatility_regime}' as volatility_regime,
        summary #>> '{key_metrics,liquidity_state}' as liquidity_state,
        summary #>> '{key_metrics,sentiment_level}' as sentiment_level,
        summary #>> '{key_metrics,yield_curve_shape}' as yield_curve_shape,
        (summary #>> '{key_metrics,anomaly_count}')::int as anomaly_count,
        summary ->> 'regime_fingerprint' as regime_fingerprint,
        (summary #>> '{transition_probabilities,to_risk_on}')::double precision as prob_risk_on,
        (summary #>> '{transition_probabilities,to_risk_off}')::double precision as prob_risk_off,
        (summary #>> '{transition_probabilities,to_vol_spike}')::double precision as prob_vol_spike,
        -- the economic calendar of the day: the first scheduled release after it (NULL without a calendar)
        (
            select min((e ->> 'date')::date)
            from jsonb_array_elements(
                case when jsonb_typeof(summary -> 'upcoming_events') = 'array' then summary -> 'upcoming_events' end
            ) as e
            where (e ->> 'date')::date > regimes.date
        ) as next_scheduled_event_date,

        -- rates and macro
        (country_economic_indicators ->> 'fed_funds_rate_effective')::double precision as fed_funds_rate,
        (country_economic_indicators ->> 'treasury_2_year')::double precision as treasury_2y,
        (country_economic_indicators ->> 'treasury_10_year')::double precision as treasury_10y,
        (country_economic_indicators ->> 'inflation_us_consumer_prices')::double precision as cpi_inflation,
        (country_economic_indicators ->> 'unemployment_rate')::double precision as unemployment_rate,

        -- instruments
        (instruments #>> '{data,SPX500,daily_return}')::double precision as spx_return,
        (instruments #>> '{data,NDX100,daily_return}')::double precision as ndx_return,
        (instruments #>> '{data,EURUSD,daily_return}')::double precision as eurusd_return,
        (instruments #>> '{data,USDJPY,daily_return}')::double precision as usdjpy_return,
        (instruments #>> '{data,XAUUSD,daily_return}')::double precision as gold_return,
        (instruments #>> '{data,USOUSD,daily_return}')::double precision as oil_return,
        (instruments #>> '{data,BTCUSD,daily_return}')::double precision as btc_return,
        (instruments #>> '{data,BTCUSD,volatility_90d}')::double precision as btc_volatility,
        (instruments #>> '{data,SPX500,volatility_90d}')::double precision as spx_volatility
    from regimes
)

select * from final
