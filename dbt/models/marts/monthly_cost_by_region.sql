-- Cost per billing period and region ("global" for charges without one: tax, support, credits).
select
    x_billing_period as billing_period,
    coalesce(RegionId, 'global') as region_id,
    coalesce(any_value(RegionName), 'Global') as region_name,
    sum(BilledCost) as billed_cost,
    sum(EffectiveCost) as effective_cost
from {{ source('focus', 'cost_and_usage') }}
group by x_billing_period, coalesce(RegionId, 'global')
