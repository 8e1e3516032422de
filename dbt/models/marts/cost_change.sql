-- Period-over-period change of effective cost per service.
with monthly as (
    select billing_period, service_name, sum(effective_cost) as effective_cost
    from {{ ref('monthly_cost_by_service') }}
    group by all
)
select
    strftime(billing_period, '%Y-%m') || ' ' || service_name as period_service,
    billing_period,
    service_name,
    effective_cost,
    lag(effective_cost) over (partition by service_name order by billing_period) as previous_effective_cost,
    effective_cost - previous_effective_cost as change,
    change / nullif(previous_effective_cost, 0) as change_ratio
from monthly
