//! Names: the CUR column-name rule, export-name validation, table names, and SQL quoting.
//!
//! Every identifier or literal built from user input goes through [`quote_ident`] or
//! [`quote_literal`]; export names are validated by [`validate_export_name`] before they
//! are used anywhere (S3 keys, file paths, table names).

use crate::error::{Error, Result};

/// Normalises a billing column name to `snake_case`, the way AWS's Athena integration does:
/// `lineItem/UsageStartDate` → `line_item_usage_start_date`,
/// `reservation/ReservationARN` → `reservation_reservation_a_r_n`,
/// `resourceTags/user:Cost Center` → `resource_tags_user_cost_center`.
///
/// Every upper-case letter starts a new word; every character that is not a letter or a digit
/// separates words; runs of separators collapse into one `_`; no leading or trailing `_`.
/// Already snake-cased names are returned unchanged.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("column");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// [`snake_case`] for a whole header, with later duplicates suffixed `_2`, `_3`… so that two
/// source columns that normalise alike (`user:Team`, `user:team`) both survive.
pub fn snake_case_all<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .map(|n| {
            let base = snake_case(n);
            let mut candidate = base.clone();
            let mut i = 2;
            while !seen.insert(candidate.clone()) {
                candidate = format!("{base}_{i}");
                i += 1;
            }
            candidate
        })
        .collect()
}

/// Longest export name accepted.
pub const MAX_EXPORT_NAME: usize = 128;

/// Checks that an export (report) name is safe to use in object keys, file paths and table
/// names. Allowed: ASCII letters, digits and `! - _ . * ' ( )` (what AWS allows in a report
/// name); not `.` or `..`; at most [`MAX_EXPORT_NAME`] characters.
pub fn validate_export_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.len() > MAX_EXPORT_NAME {
        Some(format!("it is longer than {MAX_EXPORT_NAME} characters"))
    } else if name == "." || name == ".." || name.contains("..") {
        Some("it contains `..`".to_owned())
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "!-_.*'()".contains(*c)))
            .map(|c| format!("it contains {c:?}"))
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::UnsafeName {
            name: name.escape_debug().to_string(),
            reason,
        }),
    }
}

/// The table name for an export: `prefix` + the export name lower-cased with every character
/// other than a letter or digit turned into `_` (`Hourly-CUR.v1` → `cur_hourly_cur_v1`).
/// Call [`validate_export_name`] first.
pub fn export_table_name(prefix: &str, export: &str) -> String {
    let body: String = export
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}{body}")
}

/// `table` with a suffix from the exact export name (`cur_team_cur_1a2b3c4d`): the raw table
/// of an export whose name normalises like another's (`team-cur`, `team_cur`; `Hourly`,
/// `hourly`). The suffix is 32-bit FNV-1a of the name, stable across versions and machines.
pub fn disambiguated_table_name(table: &str, export: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in export.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{table}_{h:08x}")
}

/// Quotes an SQL identifier: `a"b` → `"a""b"`.
pub fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Quotes an SQL string literal: `it's` → `'it''s'`.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A schema-qualified table, quoted when displayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRef {
    /// Schema (one per vendor, plus `focus` and `finops`).
    pub schema: String,
    /// Table name inside the schema.
    pub name: String,
}

impl TableRef {
    /// A table `schema.name`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// `"schema"."name"`, ready for SQL.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

/// `schema.name`, unquoted, for messages.
impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cur_column_rule() {
        let cases = [
            ("lineItem/UsageStartDate", "line_item_usage_start_date"),
            ("bill/PayerAccountId", "bill_payer_account_id"),
            ("identity/LineItemId", "identity_line_item_id"),
            ("product/instanceType", "product_instance_type"),
            (
                "reservation/ReservationARN",
                "reservation_reservation_a_r_n",
            ),
            (
                "savingsPlan/SavingsPlanARN",
                "savings_plan_savings_plan_a_r_n",
            ),
            (
                "resourceTags/user:Cost Center",
                "resource_tags_user_cost_center",
            ),
            ("resourceTags/aws:createdBy", "resource_tags_aws_created_by"),
            ("product/servicecode", "product_servicecode"),
            (
                "pricing/publicOnDemandRate",
                "pricing_public_on_demand_rate",
            ),
            ("line_item_usage_start_date", "line_item_usage_start_date"),
            ("costCategory/Team--X", "cost_category_team_x"),
            ("//", "column"),
            ("1st", "_1st"),
        ];
        for (input, want) in cases {
            assert_eq!(snake_case(input), want, "{input}");
        }
    }

    #[test]
    fn duplicates_get_suffixes() {
        assert_eq!(
            snake_case_all(["resourceTags/user:Team", "resourceTags/user:team", "a"]),
            ["resource_tags_user_team", "resource_tags_user_team_2", "a"]
        );
    }

    #[test]
    fn export_names() {
        for ok in ["hourly", "My-Report_2.v1", "a(b)*!'c"] {
            validate_export_name(ok).unwrap();
        }
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "x\"; DROP TABLE t; --",
            "a b",
            "ü",
            &"x".repeat(129),
        ] {
            assert!(validate_export_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            export_table_name("cur_", "Hourly-CUR.v1"),
            "cur_hourly_cur_v1"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(TableRef::new("aws", "cur_x").quoted(), "\"aws\".\"cur_x\"");
    }
}
