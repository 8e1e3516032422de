-- Every mart's totals equal FOCUS's, per period, to the last digit (a row here is a failure).
with focus as (
    select x_billing_period as billing_period, sum(BilledCost) as billed, sum(EffectiveCost) as effective
    from {{ source('focus', 'cost_and_usage') }}
    group by 1
),
marts as (
    select 'service' as mart, billing_period, sum(billed_cost) as billed, sum(effective_cost) as effective from {{ ref('monthly_cost_by_service') }} group by all
    union all
    select 'account', billing_period, sum(billed_cost), sum(effective_cost) from {{ ref('monthly_cost_by_account') }} group by all
    union all
    select 'region', billing_period, sum(billed_cost), sum(effective_cost) from {{ ref('monthly_cost_by_region') }} group by all
    union all
    select 'showback', billing_period, sum(billed_cost), sum(effective_cost) from {{ ref('showback_by_tag') }} group by all
)
select marts.mart, focus.billing_period, focus.billed, marts.billed as mart_billed, focus.effective, marts.effective as mart_effective
from focus
join marts using (billing_period)
where focus.billed <> marts.billed or focus.effective <> marts.effective
