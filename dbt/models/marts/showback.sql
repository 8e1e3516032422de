-- Showback after allocation: billed and effective cost per billing period, currency and value of one
-- [[dimensions]] entry (var showback_dimension), from focus.allocated_cost, which `finops allocate`
-- (and every import) writes. Enabled with --vars '{allocation: true}'. Dimension names are lower-case
-- letters, digits and `_` (finops refuses others), so the identifier below is safe.
{{ config(enabled=var('allocation', false)) }}
{% set dim = var('showback_dimension') %}
{% if not modules.re.match('^[a-z][a-z0-9_]*$', dim) %}
{{ exceptions.raise_compiler_error("showback_dimension must be a [[dimensions]] name (lower-case letters, digits and _): " ~ dim) }}
{% endif %}
select
    x_billing_period as billing_period,
    BillingCurrency as currency,
    "{{ dim }}" as dimension_value,
    sum(BilledCost) as billed_cost,
    sum(EffectiveCost) as effective_cost
from {{ source('focus', 'allocated_cost') }}
group by all
