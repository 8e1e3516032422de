-- The allocated showback adds up to FOCUS per period and currency, to the last digit: shared costs
-- were moved between owners, never created or lost (a row here is a failure).
{{ config(enabled=var('allocation', false)) }}
with focus as (
    select x_billing_period as billing_period, BillingCurrency as currency,
           sum(BilledCost) as billed, sum(EffectiveCost) as effective
    from {{ source('focus', 'cost_and_usage') }}
    group by all
),
showback as (
    select billing_period, currency, sum(billed_cost) as billed, sum(effective_cost) as effective
    from {{ ref('showback') }}
    group by all
)
select *
from focus full join showback using (billing_period, currency)
where focus.billed is distinct from showback.billed or focus.effective is distinct from showback.effective
