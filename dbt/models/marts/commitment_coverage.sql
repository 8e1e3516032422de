-- Coverage per period: share of usage cost that commitments covered.
select
    x_billing_period as billing_period,
    sum(case when CommitmentDiscountStatus = 'Used' then EffectiveCost else 0 end) as covered_cost,
    sum(case when CommitmentDiscountId is null then EffectiveCost else 0 end) as on_demand_cost,
    covered_cost / nullif(covered_cost + on_demand_cost, 0) as coverage
from {{ source('focus', 'cost_and_usage') }}
where ChargeCategory = 'Usage' and ChargeClass is null
group by x_billing_period
