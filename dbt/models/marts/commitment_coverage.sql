-- Coverage per period and currency: the share of usage cost that commitments covered. The same SQL
-- as `finops report commitments`.
select
    x_billing_period as billing_period,
    BillingCurrency as currency,
    coalesce(sum(EffectiveCost) filter (where CommitmentDiscountStatus = 'Used'), 0) as covered_cost,
    coalesce(sum(EffectiveCost) filter (where CommitmentDiscountId is null), 0) as on_demand_cost,
    covered_cost / nullif(covered_cost + on_demand_cost, 0) as coverage
from {{ source('focus', 'cost_and_usage') }}
where ChargeCategory = 'Usage' and ChargeClass is null
group by x_billing_period, BillingCurrency
