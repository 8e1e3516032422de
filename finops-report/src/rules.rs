//! Allocation rules of finops.toml, checked when a command starts: `[tags]` (key and value
//! normalisation, applied on read), `[[dimensions]]` (virtual tags) and `[[allocations]]`
//! (shared-cost splits). Each becomes SQL over `focus.cost_and_usage`, user input only as
//! quoted literals and identifiers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use finops_core::config::Settings;
use finops_core::naming::{quote_ident, quote_literal};
use finops_core::vendor::{FNV_OFFSET, fnv1a};
use finops_core::{Error as CoreError, Warehouse};
use serde::{Deserialize, Serialize};

use crate::budgets::OneOrMany;

/// `[tags]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TagsConfig {
    /// Keys that differ only in case are one key (default true).
    #[serde(default = "yes")]
    pub case_insensitive: bool,
    /// Key → the key it is read as (`app = "Application"`).
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// Values: `keep` (the default), `lower` or `upper`; whitespace around a value is trimmed
    /// and an empty value is no value.
    #[serde(default)]
    pub values: ValueCase,
}

fn yes() -> bool {
    true
}

/// How tag values are compared and shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueCase {
    /// As imported.
    #[default]
    Keep,
    /// Lower case.
    Lower,
    /// Upper case.
    Upper,
}

/// Which FOCUS rows a rule or a pool takes; every match field given must match. A
/// `[[dimensions.rules]]` entry is one too, with the value it gives (`value` or `tag`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Rules only: the value given to matching rows.
    pub value: Option<String>,
    /// Rules only: or the value of this tag key (rows without it fall through).
    pub tag: Option<String>,
    /// `ServiceName`.
    pub service: Option<OneOrMany>,
    /// `SubAccountId`.
    pub account: Option<OneOrMany>,
    /// `BillingAccountId`.
    pub billing_account: Option<OneOrMany>,
    /// `RegionId`.
    pub region: Option<OneOrMany>,
    /// `ProviderName`.
    pub provider: Option<OneOrMany>,
    /// `ChargeCategory`.
    pub charge_category: Option<OneOrMany>,
    /// `ResourceId` glob patterns (`*`, `?`, `[a-z]`; case-sensitive).
    pub resource: Option<OneOrMany>,
    /// Tag key → value (normalised as `[tags]` says); `"*"`: the row has the key.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Pools only: the row's value of the allocation's dimension (`"unallocated"`).
    pub dimension_value: Option<OneOrMany>,
}

/// One `[[dimensions]]` entry: a virtual tag.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionConfig {
    /// Its name: `--by dim:NAME`, a column of `focus.allocated_cost`.
    pub name: String,
    /// The value of a row no rule matches (default `unallocated`).
    #[serde(default = "unallocated")]
    pub default: String,
    /// Ordered; the first that matches gives the value.
    #[serde(default)]
    pub rules: Vec<Match>,
}

fn unallocated() -> String {
    "unallocated".to_owned()
}

/// How a pool is split across its targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// In proportion to each target's own cost in the period (the default).
    #[default]
    Proportional,
    /// The same share to each target.
    Even,
    /// By the percentages of `shares`.
    Fixed,
    /// In proportion to each target's sum of a FOCUS quantity column (`metric`).
    Metric,
}

/// One `[[allocations]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationConfig {
    /// Its name: `x_allocation` of the rows it writes.
    pub name: String,
    /// The `[[dimensions]]` whose values receive the pool.
    pub dimension: String,
    /// The rows to split.
    pub pool: Match,
    /// How (default proportional).
    #[serde(default)]
    pub method: Method,
    /// The cost a proportional split weighs by: effective (default) or billed.
    #[serde(default)]
    pub basis: Basis,
    /// Only these values receive a share (default: every value with cost in the period but
    /// the dimension's default).
    pub targets: Option<Vec<String>>,
    /// `fixed`: value → percentage (they add up to 100).
    #[serde(default)]
    pub shares: BTreeMap<String, crate::budgets::Amount>,
    /// `metric`: a FOCUS quantity column (`ConsumedQuantity`, `PricingQuantity`).
    pub metric: Option<String>,
}

/// The cost column a proportional split weighs by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// EffectiveCost.
    #[default]
    Effective,
    /// BilledCost.
    Billed,
}

impl Basis {
    /// The FOCUS column.
    pub fn column(self) -> &'static str {
        match self {
            Self::Effective => "EffectiveCost",
            Self::Billed => "BilledCost",
        }
    }
}

/// Every allocation rule of the configuration, checked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Rules {
    /// `[tags]`, when given.
    pub tags: Option<TagsConfig>,
    /// `[[dimensions]]`.
    pub dimensions: Vec<DimensionConfig>,
    /// `[[allocations]]`.
    pub allocations: Vec<AllocationConfig>,
}

/// Column names of `focus.allocated_cost` a dimension cannot take.
const RESERVED: &[&str] = &[
    "x_source",
    "x_billing_period",
    "x_rowid",
    "x_allocation",
    "billingcurrency",
    "chargeperiodstart",
    "billedcost",
    "effectivecost",
];

fn invalid(message: String) -> CoreError {
    CoreError::ConfigInvalid { message }
}

impl Rules {
    /// Reads and checks `[tags]`, `[[dimensions]]` and `[[allocations]]`: a bad rule is a
    /// configuration error (exit 2) naming the entry and the field.
    pub fn load(settings: &Settings) -> finops_core::Result<Self> {
        let rules = Self {
            tags: settings.typed_section("tags")?,
            dimensions: settings.list("dimensions")?,
            allocations: settings.list("allocations")?,
        };
        rules.check()?;
        Ok(rules)
    }

    /// Whether there is anything to allocate.
    pub fn is_empty(&self) -> bool {
        self.dimensions.is_empty()
    }

    fn check(&self) -> finops_core::Result<()> {
        let mut names = BTreeSet::new();
        for (i, d) in self.dimensions.iter().enumerate() {
            let entry = format!("[[dimensions]] #{} `{}`", i + 1, d.name);
            let ok = d
                .name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
                && d.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            let reserved = RESERVED.contains(&d.name.as_str())
                || d.name.starts_with("x_")
                || d.name.starts_with("finops_");
            if !ok || reserved {
                return Err(invalid(format!(
                    "{entry}: `name` must be lower-case letters, digits and `_`, starting with a letter, not starting with `x_` or `finops_`, and not one of {}",
                    RESERVED.join(", ")
                )));
            }
            if !names.insert(d.name.as_str()) {
                return Err(invalid(format!(
                    "{entry}: `name` is given twice; each dimension needs its own"
                )));
            }
            for (j, r) in d.rules.iter().enumerate() {
                let rule = format!("{entry} rule #{}", j + 1);
                match (&r.value, &r.tag) {
                    (Some(_), Some(_)) => {
                        return Err(invalid(format!(
                            "{rule}: `value` and `tag` are both given; a rule gives one value"
                        )));
                    }
                    (None, None) => {
                        return Err(invalid(format!(
                            "{rule}: give `value = \"...\"` or `tag = \"KEY\"` (the value it gives)"
                        )));
                    }
                    (Some(v), None) if v.trim().is_empty() => {
                        return Err(invalid(format!("{rule}: `value` is empty")));
                    }
                    _ => {}
                }
                if r.dimension_value.is_some() {
                    return Err(invalid(format!(
                        "{rule}: `dimension_value` is for an allocation's `pool`"
                    )));
                }
                check_match(r, &rule)?;
            }
        }
        let mut seen = BTreeSet::new();
        for (i, a) in self.allocations.iter().enumerate() {
            let entry = format!("[[allocations]] #{} `{}`", i + 1, a.name);
            if a.name.trim().is_empty() || !seen.insert(a.name.as_str()) {
                return Err(invalid(format!(
                    "{entry}: `name` must be given, and differ from every other allocation's"
                )));
            }
            if !self.dimensions.iter().any(|d| d.name == a.dimension) {
                let known: Vec<&str> = self.dimensions.iter().map(|d| d.name.as_str()).collect();
                return Err(invalid(format!(
                    "{entry}: `dimension` `{}` is no [[dimensions]] entry (they are: {})",
                    a.dimension,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            if a.pool.value.is_some() || a.pool.tag.is_some() {
                return Err(invalid(format!(
                    "{entry} `pool`: `value` and `tag` are for [[dimensions.rules]]; a pool selects rows (`dimension_value` = the dimension's value)"
                )));
            }
            check_match(&a.pool, &format!("{entry} `pool`"))?;
            if a.pool.is_empty() {
                return Err(invalid(format!(
                    "{entry}: `pool` selects every row; give at least one field (service, account, charge_category, dimension_value…)"
                )));
            }
            match a.method {
                Method::Fixed => {
                    if a.shares.is_empty() {
                        return Err(invalid(format!(
                            "{entry}: method `fixed` needs `shares = {{ value = percent, … }}`"
                        )));
                    }
                    let mut total = rust_percent(0);
                    for (k, v) in &a.shares {
                        let p = parse_percent(&v.text()).ok_or_else(|| {
                            invalid(format!(
                                "{entry}: `shares.{k}` = `{}` is not a percentage above 0 with at most 10 decimals",
                                v.text()
                            ))
                        })?;
                        total += p;
                    }
                    if total != rust_percent(100) {
                        return Err(invalid(format!(
                            "{entry}: `shares` add up to {}%, not 100%",
                            show_percent(total)
                        )));
                    }
                }
                Method::Metric => {
                    let m = a.metric.as_deref().unwrap_or_default();
                    if !METRICS.contains(&m) {
                        return Err(invalid(format!(
                            "{entry}: method `metric` needs `metric` = one of {} (it is `{m}`)",
                            METRICS.join(", ")
                        )));
                    }
                }
                Method::Proportional | Method::Even => {}
            }
            if a.method != Method::Fixed && !a.shares.is_empty() {
                return Err(invalid(format!(
                    "{entry}: `shares` is for method `fixed` only"
                )));
            }
            if a.method != Method::Metric && a.metric.is_some() {
                return Err(invalid(format!(
                    "{entry}: `metric` is for method `metric` only"
                )));
            }
            if a.targets.as_ref().is_some_and(Vec::is_empty) {
                return Err(invalid(format!("{entry}: `targets` is empty")));
            }
        }
        Ok(())
    }

    /// The dimension named `name`.
    pub fn dimension(&self, name: &str) -> Option<&DimensionConfig> {
        self.dimensions.iter().find(|d| d.name == name)
    }

    /// A digest of the rules: a period allocated under other rules is allocated again.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        format!("{:016x}", fnv1a(text.as_bytes(), FNV_OFFSET))
    }
}

/// The FOCUS columns a `metric` split may weigh by.
pub const METRICS: &[&str] = &[
    "ConsumedQuantity",
    "PricingQuantity",
    "ListCost",
    "ContractedCost",
    "BilledCost",
    "EffectiveCost",
];

/// A percentage in 1e-10 units.
fn rust_percent(p: i128) -> i128 {
    p * 10_000_000_000
}

fn show_percent(units: i128) -> String {
    let whole = units / 10_000_000_000;
    let frac = (units % 10_000_000_000).abs();
    let frac = format!("{frac:010}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}

/// `"12.5"` → 1e-10 units; `None` unless above 0 with at most 10 decimals.
pub(crate) fn parse_percent(s: &str) -> Option<i128> {
    let (whole, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 10
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let w: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let f: i128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<10}").parse().ok()?
    };
    let units = w.checked_mul(10_000_000_000)?.checked_add(f)?;
    (units > 0).then_some(units)
}

fn check_match(m: &Match, entry: &str) -> finops_core::Result<()> {
    for (field, _, v) in m.lists() {
        if v.as_ref().is_some_and(|v| v.values().is_empty()) {
            return Err(invalid(format!("{entry}: `{field}` is an empty list")));
        }
    }
    let allowed = finops_core::focus::columns::get("ChargeCategory")
        .and_then(|c| c.allowed)
        .unwrap_or_default();
    if m.charge_category
        .as_ref()
        .is_some_and(|v| v.values().iter().any(|c| !allowed.contains(&c.as_str())))
    {
        return Err(invalid(format!(
            "{entry}: `charge_category` must be among {}",
            allowed.join(", ")
        )));
    }
    if let Some(k) = m.tags.keys().find(|k| k.trim().is_empty()) {
        return Err(invalid(format!("{entry}: `tags` has an empty key `{k}`")));
    }
    Ok(())
}

impl Match {
    /// The list fields: name in finops.toml, the FOCUS column a plain `IN` compares (none
    /// for the globs and the dimension's value), and the value.
    fn lists(&self) -> [(&'static str, Option<&'static str>, &Option<OneOrMany>); 8] {
        [
            ("service", Some("ServiceName"), &self.service),
            ("account", Some("SubAccountId"), &self.account),
            (
                "billing_account",
                Some("BillingAccountId"),
                &self.billing_account,
            ),
            ("region", Some("RegionId"), &self.region),
            ("provider", Some("ProviderName"), &self.provider),
            (
                "charge_category",
                Some("ChargeCategory"),
                &self.charge_category,
            ),
            ("resource", None, &self.resource),
            ("dimension_value", None, &self.dimension_value),
        ]
    }

    fn is_empty(&self) -> bool {
        self.lists().iter().all(|(_, _, v)| v.is_none()) && self.tags.is_empty()
    }

    /// `TRUE AND …` over FOCUS columns; `dimension` is the SQL of the allocation's dimension.
    pub(crate) fn sql(&self, tags: &TagIndex, dimension: Option<&str>) -> String {
        let mut parts = vec!["TRUE".to_owned()];
        let list = |values: &[String]| {
            values
                .iter()
                .map(|v| quote_literal(v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (_, column, v) in self.lists() {
            if let (Some(column), Some(v)) = (column, v) {
                parts.push(format!(
                    "CAST({} AS VARCHAR) IN ({})",
                    quote_ident(column),
                    list(&v.values())
                ));
            }
        }
        if let Some(globs) = &self.resource {
            let any: Vec<String> = globs
                .values()
                .iter()
                .map(|g| format!("\"ResourceId\" GLOB {}", quote_literal(g)))
                .collect();
            parts.push(format!("({})", any.join(" OR ")));
        }
        for (key, value) in &self.tags {
            let v = tags.value_sql(key);
            if value == "*" {
                parts.push(format!("{v} IS NOT NULL"));
            } else {
                parts.push(format!("{v} = {}", quote_literal(&tags.value(value))));
            }
        }
        if let (Some(values), Some(dim)) = (&self.dimension_value, dimension) {
            parts.push(format!("{dim} IN ({})", list(&values.values())));
        }
        format!("coalesce({}, FALSE)", parts.join(" AND "))
    }
}

impl OneOrMany {
    /// The values.
    pub fn values(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// The tag keys of the FOCUS table and how `[tags]` reads them: each key a user names
/// (`team`) stands for every spelling in the data that normalises to it (`Team`, `TEAM`,
/// `user:team`, an alias…).
#[derive(Clone, Debug, Default)]
pub struct TagIndex {
    config: Option<TagsConfig>,
    /// Raw key → rows that carry it, most used first.
    raw: Vec<(String, i64)>,
}

impl TagIndex {
    /// Reads the tag keys of the FOCUS table (once per command) when `[tags]` is given.
    pub fn load(wh: &Warehouse, config: Option<&TagsConfig>) -> miette::Result<Self> {
        let Some(config) = config else {
            return Ok(Self::default());
        };
        let raw = tag_key_counts(wh)?;
        Ok(Self {
            config: Some(config.clone()),
            raw,
        })
    }

    /// The keys as they are, each its own (no `[tags]`).
    pub fn unnormalised(raw: Vec<(String, i64)>) -> Self {
        Self { config: None, raw }
    }

    /// Whether `[tags]` normalises keys.
    pub fn normalises(&self) -> bool {
        self.config.is_some()
    }

    /// The normal form of a key: without AWS's `user:`/`user_` prefix, lower-cased when keys
    /// are case-insensitive, then through the aliases.
    pub fn canonical(&self, key: &str) -> String {
        let Some(c) = &self.config else {
            return key.to_owned();
        };
        let fold = |k: &str| {
            let k = k.trim();
            let k = k
                .strip_prefix("user:")
                .or_else(|| k.strip_prefix("user_"))
                .unwrap_or(k);
            if c.case_insensitive {
                k.to_lowercase()
            } else {
                k.to_owned()
            }
        };
        let folded = fold(key);
        c.aliases
            .iter()
            .find(|(from, _)| fold(from) == folded)
            .map_or(folded, |(_, to)| fold(to))
    }

    /// How a canonical key is shown: the alias target, else its most used spelling.
    pub fn display(&self, canonical: &str) -> String {
        if let Some(to) = self.config.as_ref().and_then(|c| {
            c.aliases
                .values()
                .find(|to| self.canonical(to) == canonical)
        }) {
            return to.clone();
        }
        self.raw
            .iter()
            .find(|(k, _)| self.canonical(k) == canonical)
            .map_or_else(
                || canonical.to_owned(),
                |(k, _)| {
                    if self.config.is_none() {
                        return k.clone();
                    }
                    k.strip_prefix("user:")
                        .or_else(|| k.strip_prefix("user_"))
                        .unwrap_or(k)
                        .to_owned()
                },
            )
    }

    /// Every raw spelling of `key` in the data, the exact spelling first, then the most used.
    pub fn spellings(&self, key: &str) -> Vec<String> {
        if self.config.is_none() {
            return crate::tag_keys(key);
        }
        let canonical = self.canonical(key);
        let mut found: Vec<String> = self
            .raw
            .iter()
            .filter(|(k, _)| self.canonical(k) == canonical)
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(i) = found.iter().position(|k| k == key) {
            let exact = found.remove(i);
            found.insert(0, exact);
        }
        if found.is_empty() {
            found.push(key.to_owned());
        }
        found
    }

    /// Every canonical key with the raw spellings merged into it.
    pub fn merged(&self) -> BTreeMap<String, Vec<String>> {
        // Without [tags], every key is its own.
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, _) in &self.raw {
            m.entry(self.canonical(k)).or_default().push(k.clone());
        }
        m
    }

    /// The normalised value of tag `key`: SQL, NULL when the row has none.
    pub fn value_sql(&self, key: &str) -> String {
        let raw = crate::tag_lookup(&self.spellings(key));
        match &self.config {
            None => raw,
            Some(c) => {
                let trimmed = format!("nullif(trim({raw}), '')");
                match c.values {
                    ValueCase::Keep => trimmed,
                    ValueCase::Lower => format!("lower({trimmed})"),
                    ValueCase::Upper => format!("upper({trimmed})"),
                }
            }
        }
    }

    /// A value written in a rule, normalised as the data's are.
    pub fn value(&self, v: &str) -> String {
        match self.config.as_ref().map(|c| c.values) {
            None => v.to_owned(),
            Some(ValueCase::Keep) => v.trim().to_owned(),
            Some(ValueCase::Lower) => v.trim().to_lowercase(),
            Some(ValueCase::Upper) => v.trim().to_uppercase(),
        }
    }
}

/// Every tag key of the FOCUS table with the rows that carry it, most used first.
pub(crate) fn tag_key_counts(wh: &Warehouse) -> miette::Result<Vec<(String, i64)>> {
    let focus = crate::focus_table(wh);
    let rows = crate::frame::rows(
        wh,
        &format!(
            "SELECT k, count(*) AS n FROM (SELECT unnest(json_keys(\"Tags\")) AS k FROM {focus} \
             WHERE \"Tags\" IS NOT NULL) GROUP BY k ORDER BY n DESC, k"
        ),
        [],
        "reading the tag keys",
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows)
}

impl DimensionConfig {
    /// The value of this dimension for a FOCUS row: the first rule that matches, else the
    /// default.
    pub(crate) fn sql(&self, tags: &TagIndex) -> String {
        let mut sql = String::from("CASE");
        for r in &self.rules {
            let cond = r.sql(tags, None);
            match (&r.value, &r.tag) {
                (Some(v), _) => {
                    let _ = write!(sql, " WHEN {cond} THEN {}", quote_literal(v));
                }
                (None, Some(key)) => {
                    let v = tags.value_sql(key);
                    let _ = write!(
                        sql,
                        " WHEN {cond} AND {v} IS NOT NULL THEN CAST({v} AS VARCHAR)"
                    );
                }
                (None, None) => {}
            }
        }
        let _ = write!(sql, " ELSE {} END", quote_literal(&self.default));
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_exactly() {
        assert_eq!(parse_percent("12.5"), Some(125_000_000_000));
        assert_eq!(parse_percent("100"), Some(rust_percent(100)));
        assert_eq!(parse_percent("0"), None);
        assert_eq!(parse_percent("-5"), None);
        assert_eq!(parse_percent("1e2"), None);
        assert_eq!(parse_percent("0.00000000001"), None);
        assert_eq!(show_percent(parse_percent("33.3").unwrap()), "33.3");
    }

    #[test]
    fn keys_normalise_through_case_prefix_and_aliases() {
        let t = TagIndex {
            config: Some(TagsConfig {
                case_insensitive: true,
                aliases: BTreeMap::from([("app".to_owned(), "Application".to_owned())]),
                values: ValueCase::Lower,
            }),
            raw: vec![
                ("Application".into(), 5),
                ("APP".into(), 3),
                ("user:application".into(), 2),
                ("team".into(), 1),
            ],
        };
        assert_eq!(t.canonical("APPLICATION"), "application");
        assert_eq!(t.canonical("app"), "application");
        assert_eq!(t.display("application"), "Application");
        assert_eq!(
            t.spellings("Application"),
            ["Application", "APP", "user:application"]
        );
        assert_eq!(t.spellings("owner"), ["owner"]);
        assert_eq!(t.value(" Web "), "web");
        assert_eq!(t.merged()["application"].len(), 3);
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b"", FNV_OFFSET), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a", FNV_OFFSET), 0xaf63_dc4c_8601_ec8c);
    }
}
