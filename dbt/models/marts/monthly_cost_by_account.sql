-- Cost per billing period, billing account and sub account.
select
    x_billing_period as billing_period,
    BillingAccountId as billing_account_id,
    coalesce(SubAccountId, '(none)') as sub_account_id,
    any_value(SubAccountName) as sub_account_name,
    sum(BilledCost) as billed_cost,
    sum(EffectiveCost) as effective_cost
from {{ source('focus', 'cost_and_usage') }}
group by x_billing_period, BillingAccountId, coalesce(SubAccountId, '(none)')
