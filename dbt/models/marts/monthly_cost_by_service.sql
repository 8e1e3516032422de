-- Cost per billing period and service: what a FinOps team looks at first.
select
    strftime(x_billing_period, '%Y-%m') || ' ' || ServiceName as period_service,
    x_billing_period as billing_period,
    ServiceCategory as service_category,
    ServiceName as service_name,
    sum(BilledCost) as billed_cost,
    sum(EffectiveCost) as effective_cost,
    sum(ListCost) as list_cost,
    count(*) as line_items
from {{ source('focus', 'cost_and_usage') }}
group by all
