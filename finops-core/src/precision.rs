//! The stated precision of every number finops stores, and the one place where a value is
//! rounded to it: half to even, never refused, always recorded.
//!
//! | where | kind | type | rounding step |
//! |---|---|---|---|
//! | raw tables | every number (money, rates, quantities) | `DECIMAL(38, 18)` | 10^-18 |
//! | FOCUS | costs | `DECIMAL(38, 20)` | none: raw values have 18 decimals |
//! | FOCUS | unit prices, quantities | `DECIMAL(38, 10)` | 10^-10 |
//!
//! Clouds compute in binary floating point, so `0.0006180000000000001` or
//! `1.4901161193847656E-8` (17 significant digits, 19 to 25 decimals) are ordinary. A value
//! with more decimals than its column keeps is rounded half to even at that scale. Each
//! rounding is counted per column and period ([`Rounding`]); the total rounding of a money
//! column is checked against a tolerance ([`check_tolerance`]) because a total is where it
//! would show. FOCUS `ListCost` and `ContractedCost` are derived from the stored unit price
//! and quantity, so that `ListCost = ListUnitPrice × PricingQuantity` holds exactly; how far
//! the source's own figure was from that product is recorded too. The decision, with its
//! numbers: `docs/architecture.md`, "Numbers".
//!
//! Text is parsed without DuckDB's `VARCHAR → DECIMAL(38, s)` cast, which is slow (about
//! 4 µs a value, 50 times its 18-digit cast) and rounds half away from zero: the digits are
//! split by one regular expression, rounded as text, and read as a `HUGEINT`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::naming::{quote_ident, quote_literal};

/// Decimal places kept in raw tables.
pub const RAW_SCALE: u32 = 18;
/// The type of every number in a raw table.
pub const RAW_DECIMAL: &str = "DECIMAL(38, 18)";
/// Default largest total rounding of one money column in one period, in currency units.
pub const DEFAULT_TOLERANCE: f64 = 1e-9;

/// What a number is: decides its rounding record's label and whether the tolerance applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NumberKind {
    /// An amount of money (costs, fees, credits): its total rounding is checked.
    Money,
    /// A price per unit or a rate (exchange rates included).
    UnitPrice,
    /// An amount of usage, a factor or a count.
    Quantity,
    /// FOCUS `ListCost`/`ContractedCost`: derived from the stored unit price and quantity;
    /// the record says how far the source's own figure was.
    DerivedCost,
}

impl NumberKind {
    /// The kind of a raw column from its name (any spelling: `lineItem/UsageAmount`,
    /// `line_item_usage_amount`, `PayGPrice`): rates and prices, quantities (amounts of
    /// usage, factors, units, ratios), else money. Unknown names count as money, so that
    /// the tolerance applies to them.
    pub fn of_column(name: &str) -> Self {
        let n: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if n.ends_with("rate") || n.contains("price") || n.contains("ratepricing") {
            Self::UnitPrice
        } else if n.contains("quantity")
            || n.ends_with("usageamount")
            || n.ends_with("factor")
            || n.ends_with("units")
            || n.ends_with("ratio")
        {
            Self::Quantity
        } else {
            Self::Money
        }
    }
}

/// How many values of one column were rounded in one period, and by how much.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rounding {
    /// `raw` or `focus`.
    pub table: String,
    /// The column.
    pub column: String,
    /// What it holds.
    pub kind: NumberKind,
    /// Decimal places the column keeps.
    pub scale: u32,
    /// Values rounded.
    pub values: u64,
    /// The largest absolute rounding.
    pub largest: f64,
    /// The sum of the absolute roundings: an upper bound of the change to a total.
    pub total: f64,
}

impl Rounding {
    /// `line_item_unblended_cost: 12 value(s), largest 5e-19`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}: {} value(s) rounded to {} decimals, largest {:e}, total {:e}",
            self.table, self.column, self.values, self.scale, self.largest, self.total
        )
    }
}

/// A hidden column carrying the rounding of one stored column: its delivered value minus
/// the stored one, as `DOUBLE` (NULL where nothing was rounded), or a list of them for a map.
#[derive(Clone, Debug)]
pub struct RoundingColumn {
    /// The stored column it belongs to.
    pub column: String,
    /// The hidden column's name.
    pub hidden: String,
    /// What the column holds.
    pub kind: NumberKind,
    /// Decimal places kept.
    pub scale: u32,
    /// The hidden column is a list (a map column's values).
    pub list: bool,
}

/// Prefix of hidden columns (roundings and parsing stages); never stored in a table.
pub const HIDDEN_PREFIX: &str = "__finops_";

/// Whether `name` is one of finops' hidden working columns.
pub fn is_hidden(name: &str) -> bool {
    name.starts_with(HIDDEN_PREFIX)
}

/// The SQL that reads the [`Rounding`] of every column in `columns` from `table`: one row
/// of `count, largest, total` triples.
pub fn rounding_query(table: &str, columns: &[RoundingColumn]) -> Option<String> {
    if columns.is_empty() {
        return None;
    }
    let aggs: Vec<String> = columns
        .iter()
        .map(|c| {
            let h = quote_ident(&c.hidden);
            if c.list {
                format!(
                    "CAST(COALESCE(sum(len({h})), 0) AS BIGINT), max(list_max(list_transform({h}, x -> abs(x)))), sum(list_sum(list_transform({h}, x -> abs(x))))"
                )
            } else {
                format!("count({h}), max(abs({h})), sum(abs({h}))")
            }
        })
        .collect();
    Some(format!("SELECT {} FROM {table}", aggs.join(", ")))
}

/// Reads the roundings of `columns` in `table` (only the columns that had any).
pub fn read_roundings(
    conn: &duckdb::Connection,
    table: &str,
    table_label: &str,
    columns: &[RoundingColumn],
) -> duckdb::Result<Vec<Rounding>> {
    let Some(sql) = rounding_query(table, columns) else {
        return Ok(Vec::new());
    };
    conn.query_row(&sql, [], |row| {
        let mut out = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            let values: i64 = row.get(3 * i)?;
            if values == 0 {
                continue;
            }
            out.push(Rounding {
                table: table_label.to_owned(),
                column: c.column.clone(),
                kind: c.kind,
                scale: c.scale,
                values: u64::try_from(values).unwrap_or(0),
                largest: row.get::<_, Option<f64>>(3 * i + 1)?.unwrap_or(0.0),
                total: row.get::<_, Option<f64>>(3 * i + 2)?.unwrap_or(0.0),
            });
        }
        Ok(out)
    })
}

/// The first money column whose total rounding exceeds `tolerance`, if any.
pub fn check_tolerance(roundings: &[Rounding], tolerance: f64) -> Option<&Rounding> {
    roundings
        .iter()
        .find(|r| r.kind == NumberKind::Money && r.total > tolerance)
}

/// Columns computed in stages over a source: stage `n` reads stage `n - 1`'s columns (and
/// everything before), the final projection reads them all. Lets one value's parse be
/// written as named steps without DuckDB evaluating a subexpression twice.
#[derive(Debug, Default)]
pub struct Stages {
    stages: Vec<Vec<String>>,
}

impl Stages {
    /// Adds `expr AS name` to stage `stage`; returns the reference to it.
    pub fn add(&mut self, stage: usize, name: &str, expr: &str) -> String {
        if self.stages.len() <= stage {
            self.stages.resize_with(stage + 1, Vec::new);
        }
        self.stages[stage].push(format!("{expr} AS {}", quote_ident(name)));
        quote_ident(name)
    }

    /// `SELECT outputs FROM (stages over (source))`, where `source` is a `SELECT` or a table
    /// function call usable after `FROM`.
    pub fn select(&self, source: &str, outputs: &[String]) -> String {
        let mut inner = format!("SELECT * FROM {source}");
        for stage in self.stages.iter().filter(|s| !s.is_empty()) {
            inner = format!("SELECT *, {} FROM ({inner})", stage.join(", "));
        }
        format!("SELECT {} FROM ({inner})", outputs.join(", "))
    }
}

/// How [`parse_number`] binds its steps: as staged columns, or as lambda parameters (for
/// use inside a lambda, over a map's values, where there are no columns to add).
pub enum Binding<'a> {
    /// Steps are columns of `stages`, named after `prefix`.
    Staged {
        /// Where the steps go.
        stages: &'a mut Stages,
        /// A prefix unique to this value (`__finops_n3_`).
        prefix: String,
    },
    /// Steps are parameters of nested one-element `list_transform`s; [`Binding::wrap`] puts
    /// an expression inside them.
    Inline(Vec<(String, String)>),
}

impl Binding<'_> {
    fn bind(&mut self, stage: usize, name: &str, expr: &str) -> String {
        match self {
            Self::Staged { stages, prefix } => stages.add(stage, &format!("{prefix}{name}"), expr),
            Self::Inline(vars) => {
                let var = format!("{HIDDEN_PREFIX}{name}_{}", vars.len());
                vars.push((var.clone(), expr.to_owned()));
                var
            }
        }
    }

    /// `expr` where the steps are bound: itself for staged steps, inside the lambdas for
    /// inline ones.
    pub fn wrap(&self, expr: &str) -> String {
        match self {
            Self::Staged { .. } => expr.to_owned(),
            Self::Inline(vars) => vars.iter().rev().fold(expr.to_owned(), |body, (var, e)| {
                format!("list_transform([{e}], lambda {var}: {body})[1]")
            }),
        }
    }
}

/// The first field of the error a value that is not an amount raises in DuckDB.
pub const BAD_NUMBER: &str = "finops:bad-number";

/// Why a delivered value cannot be stored as a number.
pub fn bad_number_reason(value: &str) -> &'static str {
    let v = value.trim().to_ascii_lowercase();
    let v = v.trim_start_matches(['+', '-']);
    if matches!(v, "nan" | "inf" | "infinity") {
        "is NaN or infinite, not an amount"
    } else if v.parse::<f64>().is_ok() {
        "does not fit DECIMAL(38, 18): finops keeps at most 20 digits before the decimal point"
    } else {
        "is not a number"
    }
}

/// The value and where it was (`column … of file`), if `message` (a DuckDB error's text) is
/// the error [`parse_number`] raises.
pub fn bad_number(message: &str) -> Option<(String, String)> {
    let start = message.find(BAD_NUMBER)?;
    let mut parts = message[start..].split('\u{1f}');
    parts.next()?;
    let value = parts.next()?.to_owned();
    let what = parts.next()?.lines().next().unwrap_or_default().to_owned();
    Some((value, what))
}

// Odd digits are told by their ASCII code's parity, not `IN ('1', '3', …)`: DuckDB turns
// such an IN list into a hash join per column (26 joins, and a gigabyte, for one CUR file).

/// Anchored: optional sign, digits with at most one point, optional exponent.
const NUMBER_RE: &str = r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$";

/// A number written as text (`text` is an SQL expression: NULL, or the value as delivered:
/// `12.5`, `-1.4901161193847656E-8`, `1e+3`), as `DECIMAL(38, 18)` rounded half to even, and
/// its rounding (delivered minus stored, `DOUBLE`, NULL when exact). A value that is not a
/// number, NaN or infinity, or with more than 20 digits before the point raises a DuckDB
/// error that [`bad_number`] reads back: [`BAD_NUMBER`], the value and `what` (an SQL
/// string expression: the column and file), separated by U+001F. (The reason is told in
/// Rust: a `CASE` for it inside the error's argument made DuckDB hold gigabytes for a
/// 100-column CSV.)
///
/// Fast path: a plain value with at most 10 decimals is DuckDB's 18-digit cast. Otherwise
/// the digits are taken apart (sign, digits, decimals after the exponent), the decimals
/// past the 18th are dropped with half-even rounding on the text, and the rest is read as
/// a `HUGEINT` of 10^-18 units.
#[allow(clippy::many_single_char_names)] // t, d, k, m: the steps' names in the SQL too
pub fn parse_number(text: &str, what: &str, b: &mut Binding<'_>) -> (String, String) {
    let t = b.bind(0, "t", &format!("NULLIF(trim({text}), '')"));
    let fast = b.bind(1, "f", &short_decimal(&t));
    let m = b.bind(
        2,
        "m",
        &format!(
            "CASE WHEN {t} IS NOT NULL AND {fast} IS NULL THEN regexp_extract({t}, {}, ['sign', 'int', 'frac', 'exp']) END",
            quote_literal(NUMBER_RE)
        ),
    );
    let part = |p: &str| format!("struct_extract({m}, '{p}')");
    let neg = b.bind(3, "neg", &format!("{} = '-'", part("sign")));
    let digits = format!("{} || {}", part("int"), part("frac"));
    let d = b.bind(
        3,
        "d",
        &format!(
            "CASE WHEN {digits} <> '' THEN COALESCE(NULLIF(ltrim({digits}, '0'), ''), '0') END"
        ),
    );
    // Decimals after applying the exponent: the value is d × 10^-k.
    let k = b.bind(
        3,
        "k",
        &format!(
            "length({frac}) - CASE WHEN {exp} = '' THEN 0 ELSE TRY_CAST({exp} AS INTEGER) END",
            frac = part("frac"),
            exp = part("exp")
        ),
    );
    let s = RAW_SCALE;
    let max_digits = 38;
    // The digits kept, in units of 10^-18 (NULL: more than 38 digits, too large).
    let keep = b.bind(
        4,
        "keep",
        &format!(
            "CASE WHEN {k} IS NULL THEN NULL WHEN {k} <= {s} THEN CASE WHEN length({d}) + {s} - {k} <= {max_digits} THEN {d} || repeat('0', CAST({s} - {k} AS BIGINT)) END \
             WHEN {k} - {s} < length({d}) THEN left({d}, CAST(length({d}) - ({k} - {s}) AS BIGINT)) ELSE '0' END"
        ),
    );
    // The digits dropped (NULL when none, or when the value is below 10^-19 altogether).
    let dropped = b.bind(
        4,
        "dropped",
        &format!("CASE WHEN {k} > {s} AND {k} - {s} <= length({d}) THEN right({d}, CAST({k} - {s} AS BIGINT)) END"),
    );
    let half = format!("rpad('5', CAST(length({dropped}) AS INTEGER), '0')");
    let up = b.bind(
        5,
        "up",
        &format!(
            "CASE WHEN {dropped} IS NULL THEN 0 WHEN {dropped} > {half} THEN 1 \
             WHEN {dropped} = {half} AND ascii(right({keep}, 1)) % 2 = 1 THEN 1 ELSE 0 END"
        ),
    );
    let unit = format!("CAST(0.{:0>18} AS DECIMAL(18, 18))", "1");
    let value = format!(
        "CASE WHEN {t} IS NULL THEN NULL WHEN {fast} IS NOT NULL THEN CAST({fast} AS {RAW_DECIMAL}) \
         ELSE COALESCE(CAST(TRY_CAST(TRY_CAST(CASE WHEN {neg} THEN '-' ELSE '' END || {keep} AS HUGEINT) \
         + CASE WHEN {neg} THEN -{up} ELSE {up} END AS DECIMAL(38, 0)) * {unit} AS {RAW_DECIMAL}), \
         error(concat('{BAD_NUMBER}', chr(31), {t}, chr(31), {what}))) END"
    );
    let rounding = format!(
        "CASE WHEN {k} > {s} THEN NULLIF(CASE WHEN {neg} THEN CAST(-1 AS DOUBLE) ELSE CAST(1 AS DOUBLE) END * \
         CASE WHEN {dropped} IS NOT NULL THEN (CAST('0.' || {dropped} AS DOUBLE) - {up}) * 1e-{s} \
         ELSE CAST({d} AS DOUBLE) * pow(10.0, -{k}) END, 0) END"
    );
    (value, rounding)
}

/// A decimal expression rounded half to even to `scale` places, typed `DECIMAL(38, scale)`.
/// `expr` must be a decimal (or integer) expression whose scale is at most 38.
pub fn round_half_even(expr: &str, scale: u32) -> String {
    let half = format!("0.{}5", "0".repeat(scale as usize));
    let ulp = if scale == 0 {
        "1".to_owned()
    } else {
        format!("0.{}1", "0".repeat(scale as usize - 1))
    };
    let mut sql = String::new();
    let _ = write!(
        sql,
        "CASE WHEN abs(({expr}) - round(({expr}), {scale})) = {half} \
         AND ascii(right(CAST(round(({expr}), {scale}) AS VARCHAR), 1)) % 2 = 1 \
         THEN CAST(round(({expr}), {scale}) - sign({expr}) * {ulp} AS DECIMAL(38, {scale})) \
         ELSE CAST(round(({expr}), {scale}) AS DECIMAL(38, {scale})) END"
    );
    sql
}

/// `text`, a `VARCHAR` expression, cast to `ty` if `ty` is `DECIMAL(38, s)` with
/// `10 <= s <= 28`: the value of DuckDB's own cast, which a plain value with at most 10
/// decimals reaches by the 18-digit cast, widened (exact: such a value fits both types).
/// DuckDB's 38-digit cast of text costs about 0.7 µs a value, its 18-digit one a seventh of
/// that (AWS's rates, text in CUR 2.0 Parquet: 2 M values 0.73 s against 0.10 s). `None`
/// for any other type.
pub fn text_as_decimal(text: &str, ty: &str) -> Option<String> {
    let (width, scale) = decimal_type(ty)?;
    (width == 38 && (10..=28).contains(&scale)).then(|| {
        format!(
            "COALESCE(CAST({} AS {ty}), CAST({text} AS {ty}))",
            short_decimal(text)
        )
    })
}

/// `text` as `DECIMAL(18, 10)` where it is a plain value (no exponent) with at most 10
/// decimals that fits, else NULL: DuckDB's fast 18-digit cast, only where it is exact (it
/// would round a longer value half away from zero).
fn short_decimal(text: &str) -> String {
    format!(
        "CASE WHEN NOT contains({text}, 'e') AND NOT contains({text}, 'E') \
         AND (CASE WHEN strpos({text}, '.') > 0 THEN length({text}) - strpos({text}, '.') ELSE 0 END) <= 10 \
         THEN TRY_CAST({text} AS DECIMAL(18, 10)) END"
    )
}

/// The width and scale of a `DECIMAL(p, s)` type name (any case and spacing).
pub fn decimal_type(ty: &str) -> Option<(u32, u32)> {
    let compact: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    let (width, scale) = compact
        .to_ascii_uppercase()
        .strip_prefix("DECIMAL(")?
        .strip_suffix(')')?
        .split_once(',')
        .map(|(w, s)| (w.parse().ok(), s.parse().ok()))?;
    Some((width?, scale?))
}

/// The product of two decimal expressions, each first rounded half to even to `scale`
/// places, typed `DECIMAL(38, 2 × scale)`: exact for the rounded operands, with
/// `38 − 2 × scale` digits before the point. For products of two stored numbers (a price
/// in one currency × an exchange rate), whose `DECIMAL(38, 18)` product would keep only
/// two digits before the point.
pub fn product(a: &str, b: &str, scale: u32) -> String {
    format!(
        "CAST({} * {} AS DECIMAL(38, {}))",
        round_half_even(a, scale),
        round_half_even(b, scale),
        2 * scale
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_as_decimal_is_duckdbs_cast_faster() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let ty = "DECIMAL(38, 18)";
        let fast = text_as_decimal("v", ty).unwrap();
        for v in [
            "0.44",
            "-0.0000000001",
            "12345678.1234567891",
            "123456789.5",
            "1.5E-3",
            "0.0006180000000000001",
            "0.00000000000000000050",
            " 2.5 ",
            "+.5",
            "1e5",
        ] {
            let (a, b): (String, String) = conn
                .query_row(
                    &format!(
                        "SELECT CAST({fast} AS VARCHAR), CAST(CAST(v AS {ty}) AS VARCHAR) FROM (SELECT ? AS v)"
                    ),
                    [v],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(a, b, "{v:?}");
        }
        let null: Option<String> = conn
            .query_row(
                &format!("SELECT CAST({fast} AS VARCHAR) FROM (SELECT CAST(NULL AS VARCHAR) AS v)"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(null, None);
        let bad = conn.query_row(
            &format!("SELECT CAST({fast} AS VARCHAR) FROM (SELECT 'abc' AS v)"),
            [],
            |r| r.get::<_, String>(0),
        );
        assert!(
            bad.is_err(),
            "text that is no number fails as DuckDB's cast does"
        );
        assert_eq!(text_as_decimal("v", "DECIMAL(18, 10)"), None);
        assert_eq!(text_as_decimal("v", "DECIMAL(38, 2)"), None);
        assert_eq!(text_as_decimal("v", "VARCHAR"), None);
    }

    fn parse(conn: &duckdb::Connection, v: &str) -> duckdb::Result<(Option<String>, Option<f64>)> {
        let mut stages = Stages::default();
        let (value, rounding) = parse_number(
            "v",
            "'column c'",
            &mut Binding::Staged {
                stages: &mut stages,
                prefix: "__finops_n0_".into(),
            },
        );
        let sql = stages.select(
            &format!("(SELECT {} AS v)", quote_literal(v)),
            &[format!("CAST({value} AS VARCHAR)"), rounding],
        );
        let in_stages = conn.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)));
        // The inline form gives the same.
        let mut b = Binding::Inline(Vec::new());
        let (value, rounding) = parse_number("v", "'column c'", &mut b);
        let inline = conn.query_row(
            &format!(
                "SELECT CAST({} AS VARCHAR), {} FROM (SELECT {} AS v)",
                b.wrap(&value),
                b.wrap(&rounding),
                quote_literal(v)
            ),
            [],
            |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<f64>>(1)?)),
        );
        match (&in_stages, &inline) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{v}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{v}: staged {in_stages:?}, inline {inline:?}"),
        }
        in_stages
    }

    #[test]
    fn text_numbers_round_half_to_even_at_18_decimals() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let ok = |v: &str, want: &str| {
            let (got, _) = parse(&conn, v).unwrap();
            assert_eq!(got.as_deref(), Some(want), "{v}");
        };
        ok("0.000305367", "0.000305367000000000");
        ok("5.64902E-05", "0.000056490200000000");
        ok("1.5e3", "1500.000000000000000000");
        ok("2E3", "2000.000000000000000000");
        ok("+1.25", "1.250000000000000000");
        ok(" 7 ", "7.000000000000000000");
        ok("-0", "0.000000000000000000");
        ok("-0.0", "0.000000000000000000");
        ok("0.0006180000000000001", "0.000618000000000000");
        ok("0.0064447140850840195", "0.006444714085084020");
        ok("0.0029271876155092785", "0.002927187615509278"); // tie: to even (8)
        ok("0.0029271876155092775", "0.002927187615509278"); // tie: to even (8)
        ok("-0.0000000000000000025", "-0.000000000000000002");
        ok("-0.0000000000000000035", "-0.000000000000000004");
        ok("0.00000000000000000250001", "0.000000000000000003");
        ok("1.4901161193847656E-8", "0.000000014901161194");
        ok("1.4901161193847656e-30", "0.000000000000000000");
        ok("0.9999999999999999999", "1.000000000000000000");
        ok(
            "12345678901234567890.5",
            "12345678901234567890.500000000000000000",
        );
        ok("1e19", "10000000000000000000.000000000000000000");
        ok("0.000", "0.000000000000000000");
        ok(".5", "0.500000000000000000");
        let (_, r) = parse(&conn, "0.0064447140850840195").unwrap();
        assert!((r.unwrap() - (-0.5e-18)).abs() < 1e-30, "{r:?}");
        let (_, r) = parse(&conn, "1.4901161193847656e-30").unwrap();
        assert!(
            (r.unwrap() - 1.490_116_119_384_765_6e-30).abs() < 1e-40,
            "{r:?}"
        );
        let (_, r) = parse(&conn, "0.5000000000000000000000").unwrap();
        assert_eq!(r, None, "zeros past the 18th decimal are not a rounding");
        assert_eq!(
            parse(&conn, "12.5").unwrap(),
            (Some("12.500000000000000000".into()), None)
        );
        assert_eq!(parse(&conn, "").unwrap(), (None, None));
        for (bad, why) in [
            ("abc", "is not a number"),
            ("1.2.3", "is not a number"),
            ("NaN", "is NaN or infinite"),
            ("-Infinity", "is NaN or infinite"),
            ("1e25", "does not fit"),
            ("123456789012345678901", "does not fit"),
            ("1e999999999999", "does not fit"),
        ] {
            let err = parse(&conn, bad).unwrap_err().to_string();
            let (value, what) = bad_number(&err).unwrap_or_else(|| panic!("{bad}: {err}"));
            assert_eq!((value.as_str(), what.as_str()), (bad, "column c"), "{err}");
            assert!(bad_number_reason(&value).contains(why), "{bad}");
        }
    }

    #[test]
    fn decimals_round_half_to_even_and_products_keep_their_range() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let q = |sql: &str| -> String {
            conn.query_row(&format!("SELECT CAST({sql} AS VARCHAR)"), [], |r| r.get(0))
                .unwrap()
        };
        let r10 = |v: &str| {
            q(&round_half_even(
                &format!("CAST('{v}' AS DECIMAL(38, 18))"),
                10,
            ))
        };
        assert_eq!(r10("1.686400000000000100"), "1.6864000000");
        assert_eq!(r10("0.000000000050000000"), "0.0000000000");
        assert_eq!(r10("0.000000000150000000"), "0.0000000002");
        assert_eq!(r10("-0.000000000250000000"), "-0.0000000002");
        assert_eq!(r10("0.000000000250000001"), "0.0000000003");
        assert_eq!(r10("0.000547945205479452"), "0.0005479452");
        // A P30 disk priced 135.17 in USD, billed in EUR: no overflow.
        let p = product(
            "CAST('135.17' AS DECIMAL(38, 18))",
            "CAST('0.938565998821447470' AS DECIMAL(38, 18))",
            13,
        );
        assert_eq!(q(&p), "126.86596606068863800000000000");
    }

    #[test]
    fn kinds_from_column_names() {
        use NumberKind::*;
        for (name, kind) in [
            ("lineItem/UnblendedCost", Money),
            ("line_item_unblended_rate", UnitPrice),
            ("pricing_public_on_demand_cost", Money),
            ("pricing/publicOnDemandRate", UnitPrice),
            ("lineItem/UsageAmount", Quantity),
            ("line_item_normalized_usage_amount", Quantity),
            ("reservation_unused_quantity", Quantity),
            ("lineItem/NormalizationFactor", Quantity),
            ("PayGPrice", UnitPrice),
            ("ExchangeRatePricingToBilling", UnitPrice),
            ("CostInBillingCurrency", Money),
            (
                "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
                Money,
            ),
            ("Quantity", Quantity),
            ("BilledCost", Money),
        ] {
            assert_eq!(NumberKind::of_column(name), kind, "{name}");
        }
    }
}
