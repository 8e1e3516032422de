//! The three schemas of Google Cloud billing exports, told apart by their columns, and the
//! exact reading of their files.
//!
//! BigQuery writes the nested records of an export as Parquet structs and lists, or as
//! nested JSON objects; numbers arrive as `FLOAT64` (`cost`, `usage.amount`,
//! `credits.amount`), `NUMERIC` (`price.*`: Parquet `DECIMAL(38, 9)`, JSON a number *or* a
//! string) or JSON strings; timestamps as Parquet `TIMESTAMP` (UTC) or JSON text such as
//! `2024-05-12 22:00:00 UTC`. Every number, at any depth, is read from its text (a float's
//! shortest round-trip text) into `DECIMAL(38, 18)`, rounded half to even past 18 decimals
//! with the rounding recorded, as core reads every other vendor's numbers
//! ([`finops_core::precision`]); every timestamp becomes a UTC `TIMESTAMP`. Structs and
//! lists keep their shape in the raw table, so `credits` is a list of structs whose `amount`
//! is exact.

use finops_core::focus::columns::DataType;
use finops_core::naming::{quote_ident, quote_literal};
use finops_core::precision::{
    Binding, HIDDEN_PREFIX, NumberKind, RAW_SCALE, RoundingColumn, Stages, parse_number,
};

/// Which export a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// The standard usage cost export (`gcp_billing_export_v1_…`).
    Standard,
    /// The detailed, resource-level export (`gcp_billing_export_resource_v1_…`): the
    /// standard columns plus `resource`, `price` and `subscription`.
    Detailed,
    /// The native FOCUS export (`gcp_billing_export_focus_…`, Preview): FOCUS 1.2 columns and
    /// Google's `x_` columns.
    Focus,
}

impl Schema {
    /// From the top-level column names of a file; `None` when it is none of them.
    pub fn detect(columns: &[String]) -> Option<Self> {
        let has = |n: &str| columns.iter().any(|c| c.eq_ignore_ascii_case(n));
        if has("BilledCost") && has("ChargePeriodStart") {
            Some(Self::Focus)
        } else if has("billing_account_id") && has("cost") && has("usage_start_time") {
            Some(if has("resource") || has("price") {
                Self::Detailed
            } else {
                Self::Standard
            })
        } else {
            None
        }
    }

    /// In messages and the import log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard usage cost",
            Self::Detailed => "detailed usage cost",
            Self::Focus => "FOCUS",
        }
    }
}

/// What a field holds, at any depth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// Text (and anything not declared: kept as delivered).
    Text,
    /// A number: read exactly.
    Number,
    /// A timestamp: a UTC `TIMESTAMP`.
    Time,
    /// A boolean.
    Bool,
    /// A record.
    Struct(Vec<(&'static str, Field)>),
    /// A repeated field.
    List(Box<Field>),
}

fn record(fields: &[(&'static str, Field)]) -> Field {
    Field::Struct(fields.to_vec())
}

fn key_values() -> Field {
    Field::List(Box::new(record(&[
        ("key", Field::Text),
        ("value", Field::Text),
    ])))
}

fn credits() -> Field {
    Field::List(Box::new(record(&[
        ("name", Field::Text),
        ("amount", Field::Number),
        ("full_name", Field::Text),
        ("id", Field::Text),
        ("type", Field::Text),
    ])))
}

/// The declared fields of the standard and detailed exports (Google's schema reference,
/// "Structure of Detailed data export"), with the newer consumption-model fields.
pub fn billing_field(name: &str) -> Option<Field> {
    use Field::{Number, Text, Time};
    Some(match name {
        "billing_account_id" | "transaction_type" | "seller_name" | "currency" | "cost_type" => {
            Text
        }
        "service" | "sku" | "consumption_model" => record(&[("id", Text), ("description", Text)]),
        "usage_start_time" | "usage_end_time" | "export_time" => Time,
        "project" => record(&[
            ("id", Text),
            ("number", Text),
            ("name", Text),
            ("labels", key_values()),
            ("ancestry_numbers", Text),
            (
                "ancestors",
                Field::List(Box::new(record(&[
                    ("resource_name", Text),
                    ("display_name", Text),
                ]))),
            ),
        ]),
        "labels" | "system_labels" => key_values(),
        "location" => record(&[
            ("location", Text),
            ("country", Text),
            ("region", Text),
            ("zone", Text),
        ]),
        "tags" => Field::List(Box::new(record(&[
            ("key", Text),
            ("value", Text),
            ("inherited", Field::Bool),
            ("namespace", Text),
        ]))),
        "cost"
        | "currency_conversion_rate"
        | "cost_at_list"
        | "cost_at_effective_price_default"
        | "cost_at_list_consumption_model" => Number,
        "usage" => record(&[
            ("amount", Number),
            ("unit", Text),
            ("amount_in_pricing_units", Number),
            ("pricing_unit", Text),
        ]),
        "credits" => credits(),
        "invoice" => record(&[("month", Text), ("publisher_type", Text)]),
        "adjustment_info" => record(&[
            ("id", Text),
            ("description", Text),
            ("mode", Text),
            ("type", Text),
        ]),
        "price" => record(&[
            ("effective_price", Number),
            ("tier_start_amount", Number),
            ("unit", Text),
            ("pricing_unit_quantity", Number),
            ("list_price", Number),
            ("effective_price_default", Number),
            ("list_price_consumption_model", Number),
        ]),
        "resource" => record(&[("name", Text), ("global_name", Text)]),
        "subscription" => record(&[("instance_id", Text)]),
        _ => return None,
    })
}

/// The declared fields of the FOCUS export: FOCUS columns by their FOCUS type, and the
/// numbers and times among Google's `x_` columns.
pub fn focus_field(name: &str) -> Option<Field> {
    if let Some(c) = finops_core::focus::columns::get(name) {
        return Some(match c.data_type {
            DataType::Cost | DataType::UnitPrice | DataType::Quantity => Field::Number,
            DataType::DateTime => Field::Time,
            _ => Field::Text,
        });
    }
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "x_currencyconversionrate"
        | "x_priceeffectivepricedefault"
        | "x_pricelistpriceconsumptionmodel"
        | "x_costateffectivepricedefault"
        | "x_costatlistconsumptionmodel" => Field::Number,
        "x_exporttime" => Field::Time,
        "x_credits" => credits(),
        _ => return None,
    })
}

/// The type a field is read as: numbers and times as text (parsed afterwards), structs and
/// lists by name (a field a file lacks is NULL, one it has beyond these is dropped).
pub fn read_type(f: &Field) -> String {
    match f {
        Field::Text | Field::Number | Field::Time => "VARCHAR".to_owned(),
        Field::Bool => "BOOLEAN".to_owned(),
        Field::Struct(fields) => format!(
            "STRUCT({})",
            fields
                .iter()
                .map(|(n, f)| format!("{} {}", quote_ident(n), read_type(f)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Field::List(inner) => format!("{}[]", read_type(inner)),
    }
}

/// Whether a field needs converting (holds a number or a time somewhere).
fn converts(f: &Field) -> bool {
    match f {
        Field::Number | Field::Time => true,
        Field::Text | Field::Bool => false,
        Field::Struct(fields) => fields.iter().any(|(_, f)| converts(f)),
        Field::List(inner) => converts(inner),
    }
}

/// A timestamp written as text: `2024-05-12 22:00:00 UTC`, `…:02.981774 UTC`, `…+00`,
/// `…T22:00:00Z`, as a UTC `TIMESTAMP`.
fn time_from_text(src: &str) -> String {
    let t = format!("NULLIF(regexp_replace(trim({src}), '\\s*UTC$', ''), '')");
    finops_core::read::utc_timestamp(&t)
}

/// One delivered top-level column: its name, its type in the file (DuckDB's), and what it
/// holds (`None`: kept as delivered).
#[derive(Clone, Debug)]
pub struct Column {
    /// Name in the file.
    pub name: String,
    /// DuckDB type in the file.
    pub delivered_type: String,
    /// Declared field.
    pub field: Option<Field>,
}

/// Builds the raw `SELECT` over a delivery's files.
struct Builder {
    stages: Stages,
    hidden: Vec<String>,
    roundings: Vec<RoundingColumn>,
    numbers: usize,
}

impl Builder {
    /// `src` (an expression of the field's read type) converted to its stored form; `path`
    /// names it in records and errors (`usage.amount`); `inline`: inside a list's lambda.
    fn convert(&mut self, src: &str, f: &Field, path: &str, inline: Option<&mut Inline>) -> String {
        if !converts(f) {
            return src.to_owned();
        }
        match f {
            Field::Text | Field::Bool => src.to_owned(),
            Field::Time => time_from_text(src),
            Field::Number => {
                let what = format!(
                    "{} || ' of ' || {}",
                    quote_literal(&format!("column {path}")),
                    quote_ident(FILE_COLUMN)
                );
                match inline {
                    None => {
                        let i = self.numbers;
                        self.numbers += 1;
                        let (value, rounding) = parse_number(
                            src,
                            &what,
                            &mut Binding::Staged {
                                stages: &mut self.stages,
                                prefix: format!("{HIDDEN_PREFIX}g{i}_"),
                            },
                        );
                        let hidden = format!("{HIDDEN_PREFIX}rounding_g{i}");
                        self.hidden
                            .push(format!("{rounding} AS {}", quote_ident(&hidden)));
                        self.roundings.push(RoundingColumn {
                            column: path.to_owned(),
                            hidden,
                            kind: NumberKind::of_column(path),
                            scale: RAW_SCALE,
                            list: false,
                        });
                        value
                    }
                    Some(inline) => {
                        let mut b = Binding::Inline(Vec::new());
                        let (value, rounding) = parse_number(src, &what, &mut b);
                        inline.roundings.push((path.to_owned(), b.wrap(&rounding)));
                        b.wrap(&value)
                    }
                }
            }
            Field::Struct(fields) => {
                let mut inline = inline;
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(n, f)| {
                        let inner = format!("struct_extract({src}, {})", quote_literal(n));
                        let v =
                            self.convert(&inner, f, &format!("{path}.{n}"), inline.as_deref_mut());
                        format!("{} := {v}", quote_ident(n))
                    })
                    .collect();
                format!(
                    "CASE WHEN {src} IS NULL THEN NULL ELSE struct_pack({}) END",
                    parts.join(", ")
                )
            }
            Field::List(inner) => {
                assert!(
                    inline.is_none(),
                    "{path}: a list inside a list holding numbers"
                );
                let var = format!("{HIDDEN_PREFIX}e{}", self.numbers);
                self.numbers += 1;
                let mut lambda = Inline::default();
                let body = self.convert(&var, inner, path, Some(&mut lambda));
                for (p, rounding) in lambda.roundings {
                    let hidden = format!("{HIDDEN_PREFIX}rounding_g{}", self.numbers);
                    self.numbers += 1;
                    self.hidden.push(format!(
                        "list_filter(list_transform({src}, lambda {var}: {rounding}), lambda x: x IS NOT NULL) AS {}",
                        quote_ident(&hidden)
                    ));
                    self.roundings.push(RoundingColumn {
                        column: p.clone(),
                        hidden,
                        kind: NumberKind::of_column(&p),
                        scale: RAW_SCALE,
                        list: true,
                    });
                }
                format!("list_transform({src}, lambda {var}: {body})")
            }
        }
    }
}

/// The roundings found inside one list's lambda: (path, rounding expression over its
/// element).
#[derive(Default)]
struct Inline {
    roundings: Vec<(String, String)>,
}

/// The column of every staged row naming its file (for error messages).
pub const FILE_COLUMN: &str = "__finops_file";

/// The raw `SELECT` over `from` (a `read_parquet`/`read_json` call whose declared columns
/// already have their [`read_type`], Parquet's their own types): every column under its
/// delivered name, declared ones converted (numbers exact, times UTC), others as delivered
/// but for floating point (exact through its text) and time zones (UTC). Returns the SQL and
/// the hidden rounding columns.
pub fn select(from: &str, columns: &[Column], parquet: bool) -> (String, Vec<RoundingColumn>) {
    let mut b = Builder {
        stages: Stages::default(),
        hidden: Vec::new(),
        roundings: Vec::new(),
        numbers: 0,
    };
    let mut outputs = Vec::new();
    for c in columns {
        let col = quote_ident(&c.name);
        let ty = c.delivered_type.as_str();
        let expr = match &c.field {
            // Parquet's own types where they are already what the raw table keeps.
            Some(Field::Time) if parquet && ty.starts_with("TIMESTAMP") => {
                format!("CAST({col} AS TIMESTAMP)")
            }
            Some(Field::Number) if parquet && decimal_fits(ty) => {
                format!("CAST({col} AS DECIMAL(38, 18))")
            }
            Some(f) if parquet && converts(f) && ty != read_type(f) => {
                let cast = format!("CAST({col} AS {})", read_type(f));
                b.convert(&cast, f, &c.name, None)
            }
            Some(f) => b.convert(&col, f, &c.name, None),
            None if ty == "DOUBLE" || ty == "FLOAT" => b.convert(
                &format!("CAST({col} AS VARCHAR)"),
                &Field::Number,
                &c.name,
                None,
            ),
            None if ty == "TIMESTAMP WITH TIME ZONE" => format!("CAST({col} AS TIMESTAMP)"),
            None => col.clone(),
        };
        outputs.push(format!("{expr} AS {col}"));
    }
    outputs.extend(b.hidden);
    (b.stages.select(from, &outputs), b.roundings)
}

/// A Parquet decimal of at most 18 places, or an integer: stored as it is.
fn decimal_fits(ty: &str) -> bool {
    if let Some(inner) = ty
        .strip_prefix("DECIMAL(")
        .and_then(|t| t.strip_suffix(')'))
    {
        return inner
            .split(',')
            .nth(1)
            .and_then(|s| s.trim().parse::<u32>().ok())
            .is_some_and(|s| s <= RAW_SCALE);
    }
    matches!(ty, "TINYINT" | "SMALLINT" | "INTEGER" | "BIGINT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_told_by_their_columns() {
        let cols = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            Schema::detect(&cols("billing_account_id,cost,usage_start_time,credits")),
            Some(Schema::Standard)
        );
        assert_eq!(
            Schema::detect(&cols(
                "billing_account_id,cost,usage_start_time,resource,price"
            )),
            Some(Schema::Detailed)
        );
        assert_eq!(
            Schema::detect(&cols("BilledCost,ChargePeriodStart,x_Credits")),
            Some(Schema::Focus)
        );
        assert_eq!(Schema::detect(&cols("lineItem/UnblendedCost")), None);
    }

    #[test]
    fn read_types_keep_numbers_as_text() {
        assert_eq!(
            read_type(&billing_field("usage").unwrap()),
            "STRUCT(\"amount\" VARCHAR, \"unit\" VARCHAR, \"amount_in_pricing_units\" VARCHAR, \"pricing_unit\" VARCHAR)"
        );
        assert_eq!(
            read_type(&billing_field("credits").unwrap()),
            "STRUCT(\"name\" VARCHAR, \"amount\" VARCHAR, \"full_name\" VARCHAR, \"id\" VARCHAR, \"type\" VARCHAR)[]"
        );
    }
}
