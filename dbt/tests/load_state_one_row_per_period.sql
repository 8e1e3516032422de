-- meta.load_state has one row per source, export and billing period.
select source, export, billing_period, count(*) as n
from {{ source('meta', 'load_state') }}
group by all
having count(*) > 1
