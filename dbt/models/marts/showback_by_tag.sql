-- Showback: effective cost per value of one tag key (dbt var showback_tag_key, e.g. user:Team).
{% set key = var('showback_tag_key') | replace("'", "''") | replace('"', '\\"') %}
select
    x_billing_period as billing_period,
    '{{ var("showback_tag_key") | replace("'", "''") }}' as tag_key,
    coalesce(json_extract_string(Tags, '$."{{ key }}"'), '(untagged)') as tag_value,
    sum(EffectiveCost) as effective_cost,
    sum(BilledCost) as billed_cost
from {{ source('focus', 'cost_and_usage') }}
group by all
