-- Utilisation of each commitment (RI, Savings Plan) per period: used / (used + unused).
select
    x_billing_period as billing_period,
    CommitmentDiscountId as commitment_discount_id,
    any_value(CommitmentDiscountType) as commitment_discount_type,
    sum(case when CommitmentDiscountStatus = 'Used' then EffectiveCost else 0 end) as used_cost,
    sum(case when CommitmentDiscountStatus = 'Unused' then EffectiveCost else 0 end) as unused_cost,
    used_cost / nullif(used_cost + unused_cost, 0) as utilisation
from {{ source('focus', 'cost_and_usage') }}
where CommitmentDiscountId is not null and ChargeCategory = 'Usage'
group by x_billing_period, CommitmentDiscountId
