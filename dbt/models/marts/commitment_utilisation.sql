-- Per commitment (RI, Savings Plan, CUD, reservation), period and currency: used and unused cost,
-- utilisation and savings against list. The same SQL as `finops report commitments`
-- (finops-report/src/commitments.rs), which the e2e test compares with this mart.
select
    x_billing_period as billing_period,
    CommitmentDiscountId as commitment_discount_id,
    any_value(CommitmentDiscountType) as commitment_discount_type,
    any_value(CommitmentDiscountCategory) as commitment_discount_category,
    BillingCurrency as currency,
    coalesce(sum(EffectiveCost) filter (where CommitmentDiscountStatus = 'Used'), 0) as used_cost,
    coalesce(sum(EffectiveCost) filter (where CommitmentDiscountStatus = 'Unused'), 0) as unused_cost,
    used_cost / nullif(used_cost + unused_cost, 0) as utilisation,
    sum(ListCost) - sum(EffectiveCost) as savings
from {{ source('focus', 'cost_and_usage') }}
where CommitmentDiscountId is not null and ChargeCategory = 'Usage' and ChargeClass is null
group by x_billing_period, CommitmentDiscountId, BillingCurrency
