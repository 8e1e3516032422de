//! FOCUS mappings as literal SQL: a vendor's `sql/*.sql` file, which a person can paste into
//! the DuckDB CLI over a `finops_period` view, and what core does around it.
//!
//! A mapping file is SQL text with a header comment that declares what it reads:
//!
//! ```sql
//! -- inputs:
//! --   line_item_line_item_type  VARCHAR
//! --   line_item_unblended_cost  DECIMAL(38, 18)
//! --   finops_tags               VARCHAR         -- computed by the vendor
//! -- lookups:
//! --   aws_service_categories    data/service_categories.csv
//! SELECT … FROM finops_period …
//! ```
//!
//! Core turns the period's raw rows into the view `finops_period` with exactly the declared
//! inputs, each cast to its declared type: a raw column of that name, or the expression the
//! vendor computes for it (tags as JSON, a constant such as the dataset, a value another
//! kind of export holds elsewhere), or a typed `NULL` when the delivery has neither. So the
//! mapping never asks which columns exist, and no SQL is edited as text. Lookup tables
//! (`-- lookups:`) are temporary tables loaded from the vendor's CSV files, every column
//! text, an empty cell `NULL`, as `read_csv` reads them. Statements before the last one
//! (macros) run first; the last one is the mapping's `SELECT`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::naming::{quote_ident, quote_literal};

/// A mapping file: its name (for messages) and its text.
#[derive(Clone, Copy, Debug)]
pub struct Mapping {
    /// `cur.sql`.
    pub name: &'static str,
    /// The file's text.
    pub sql: &'static str,
}

/// One declared input: a column of `finops_period`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Its name.
    pub name: String,
    /// Its DuckDB type.
    pub ty: String,
}

impl Mapping {
    /// The declared inputs, in order. Panics on a malformed header: a mapping file is part
    /// of the program, and its golden tests read it.
    pub fn inputs(&self) -> Vec<Input> {
        self.block("inputs")
            .into_iter()
            .map(|line| {
                let (name, ty) = line
                    .split_once(char::is_whitespace)
                    .unwrap_or_else(|| panic!("{}: input `{line}` has no type", self.name));
                Input {
                    name: name.to_owned(),
                    ty: ty.trim().to_owned(),
                }
            })
            .collect()
    }

    /// Whether the header and statements are well formed, for a mapping that is not part of
    /// the program (a plugin's): every input has a name and a type, and there is a `SELECT`.
    pub fn check(&self) -> std::result::Result<(), String> {
        for line in self.block("inputs") {
            let Some((name, ty)) = line.split_once(char::is_whitespace) else {
                return Err(format!("input `{line}` has no type (`--   name  TYPE`)"));
            };
            if name.is_empty() || ty.trim().is_empty() {
                return Err(format!("input `{line}` has no type (`--   name  TYPE`)"));
            }
        }
        if self.block("inputs").is_empty() {
            return Err(
                "it declares no inputs (`-- inputs:` then one `--   name  TYPE` per line)".into(),
            );
        }
        let has_sql = self.sql.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with("--")
        });
        if !has_sql {
            return Err("it holds no SELECT".into());
        }
        Ok(())
    }

    /// The declared lookup tables: (table name, file the vendor loads it from).
    pub fn lookups(&self) -> Vec<(String, String)> {
        self.block("lookups")
            .into_iter()
            .map(|line| {
                let (name, file) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
                (name.to_owned(), file.trim().to_owned())
            })
            .collect()
    }

    /// The lines of the header block `-- <name>:`, comments after `--` and blanks dropped.
    fn block(&self, name: &str) -> Vec<String> {
        let open = format!("-- {name}:");
        let mut lines = self.sql.lines().skip_while(|l| l.trim() != open);
        if lines.next().is_none() {
            return Vec::new();
        }
        lines
            .take_while(|l| l.starts_with("--   "))
            .map(|l| {
                let body = &l[2..];
                body.split_once("--")
                    .map_or(body, |(b, _)| b)
                    .trim()
                    .to_owned()
            })
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The statements before the mapping (macros), and the mapping's `SELECT`.
    pub fn statements(&self) -> (Vec<&'static str>, &'static str) {
        // A statement ends at a line of SQL (not a `--` comment) ending in `;`, so that a
        // comment may hold semicolons.
        let sql: &'static str = self.sql;
        let mut parts: Vec<&'static str> = Vec::new();
        let mut start = 0;
        let mut offset = 0;
        for line in sql.split_inclusive('\n') {
            offset += line.len();
            let code = line.trim();
            if !code.starts_with("--") && code.ends_with(';') {
                parts.push(&sql[start..offset]);
                start = offset;
            }
        }
        parts.push(&sql[start..]);
        let mut parts: Vec<&'static str> = parts
            .into_iter()
            .map(str::trim)
            .filter(|s| {
                !s.lines()
                    .all(|l| l.trim().is_empty() || l.trim().starts_with("--"))
            })
            .collect();
        let select = parts
            .pop()
            .unwrap_or_else(|| panic!("{}: no SELECT", self.name));
        (parts, select.trim_end_matches(';'))
    }
}

/// A lookup table's rows: a CSV text with a header.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The table's name, as the mapping reads it.
    pub name: String,
    /// The CSV text.
    pub csv: &'static str,
}

/// A mapping as one delivery uses it: the file, the inputs the vendor computes, and the
/// lookup tables' data.
#[derive(Clone, Debug)]
pub struct FocusSql {
    mapping: Option<Mapping>,
    /// A `SELECT` over the raw rows as they are (the upgrade of a delivered FOCUS file),
    /// when there is no mapping file.
    select: Option<String>,
    computed: BTreeMap<String, String>,
    lookups: Vec<Lookup>,
    /// Macros of another mapping file, run first (an upgrade that shares a vendor's unit
    /// normalisation).
    macros: Vec<&'static str>,
}

impl FocusSql {
    /// The mapping file `mapping`; inputs the raw rows have are read from them.
    pub fn mapping(mapping: Mapping) -> Self {
        Self {
            mapping: Some(mapping),
            select: None,
            computed: BTreeMap::new(),
            lookups: Vec::new(),
            macros: Vec::new(),
        }
    }

    /// A `SELECT` over `finops_period` as the raw rows are (core's upgrade of a FOCUS file,
    /// whose columns are whatever the file has).
    pub fn select(sql: String) -> Self {
        Self {
            mapping: None,
            select: Some(sql),
            computed: BTreeMap::new(),
            lookups: Vec::new(),
            macros: Vec::new(),
        }
    }

    /// The input `name` is `expr` (SQL over the raw rows), not a raw column. Panics when
    /// the mapping does not declare `name` (a programming error its tests catch).
    #[must_use]
    pub fn compute(mut self, name: &str, expr: impl Into<String>) -> Self {
        if let Some(m) = &self.mapping {
            assert!(
                m.inputs().iter().any(|i| i.name == name),
                "{}: `{name}` is not a declared input",
                m.name
            );
        }
        self.computed.insert(name.to_owned(), expr.into());
        self
    }

    /// Runs the statements of `mapping` before its `SELECT` (its macros) first, so that this
    /// `SELECT` may call them.
    #[must_use]
    pub fn with_macros_of(mut self, mapping: Mapping) -> Self {
        self.macros.extend(mapping.statements().0);
        self
    }

    /// The lookup table `name` holds the rows of `csv`.
    #[must_use]
    pub fn lookup(mut self, name: &str, csv: &'static str) -> Self {
        self.lookups.push(Lookup {
            name: name.to_owned(),
            csv,
        });
        self
    }

    /// Creates the lookup tables and macros and the view `finops_period` over `rows` (a
    /// relation of the raw rows, whose columns are `raw`), on `conn`; returns the mapping's
    /// `SELECT` (over `finops_period`).
    pub fn install(&self, conn: &duckdb::Connection, rows: &str, raw: &[String]) -> Result<String> {
        let action = "preparing the FOCUS mapping";
        for l in &self.lookups {
            conn.execute_batch(&lookup_table(l)?)
                .map_err(Error::db(action))?;
        }
        for m in &self.macros {
            conn.execute_batch(m).map_err(Error::db(action))?;
        }
        let Some(mapping) = &self.mapping else {
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP VIEW finops_period AS SELECT * FROM {rows}"
            ))
            .map_err(Error::db(action))?;
            return Ok(self.select.clone().unwrap_or_default());
        };
        let declared: Vec<String> = mapping.lookups().into_iter().map(|(n, _)| n).collect();
        for name in &declared {
            if !self.lookups.iter().any(|l| &l.name == name) {
                return Err(Error::MappingSetup {
                    mapping: mapping.name.to_owned(),
                    detail: format!("the lookup table `{name}` was not given"),
                });
            }
        }
        let (setup, select) = mapping.statements();
        for s in setup {
            conn.execute_batch(s).map_err(Error::db(action))?;
        }
        let text = text_columns(conn, rows)?;
        let view = self.period_view(rows, raw, &text);
        tracing::trace!("finops_period view of {}: {view}", mapping.name);
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP VIEW finops_period AS {view}"
        ))
        .map_err(Error::db(action))?;
        Ok(select.to_owned())
    }

    /// `SELECT <each declared input, typed> FROM rows`; `text` are the raw columns that are
    /// `VARCHAR`.
    fn period_view(&self, rows: &str, raw: &[String], text: &[String]) -> String {
        let mapping = self.mapping.expect("a mapping file");
        let columns: Vec<String> = mapping
            .inputs()
            .iter()
            .map(|i| {
                let source = if let Some(e) = self.computed.get(&i.name) {
                    format!("({e})")
                } else if let Some(r) = raw.iter().find(|r| r.eq_ignore_ascii_case(&i.name)) {
                    if text.contains(r)
                        && let Some(cast) =
                            crate::precision::text_as_decimal(&quote_ident(r), &i.ty)
                    {
                        return format!("{cast} AS {}", quote_ident(&i.name));
                    }
                    quote_ident(r)
                } else {
                    "NULL".to_owned()
                };
                format!("CAST({source} AS {}) AS {}", i.ty, quote_ident(&i.name))
            })
            .collect();
        format!("SELECT {} FROM {rows}", columns.join(", "))
    }
}

/// `CASE` over `expr` mapping each key of a lookup table's CSV text `csv` (its first column,
/// compared lower-cased; the first row of a key wins) to its column `value`, else `fallback`:
/// a lookup for an expression, where a mapping's join is not available (the overrides of a
/// FOCUS upgrade). Cells must not hold commas.
pub fn lookup_case(csv: &str, expr: &str, value: usize, fallback: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    let arms: Vec<String> = csv
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let key = cells.first()?.to_lowercase();
            let v = cells.get(value)?;
            seen.insert(key.clone())
                .then(|| format!("WHEN {} THEN {}", quote_literal(&key), quote_literal(v)))
        })
        .collect();
    format!("CASE lower({expr}) {} ELSE {fallback} END", arms.join(" "))
}

/// The column names of `relation` (a table or view) on `conn`.
pub fn column_names(conn: &duckdb::Connection, relation: &str) -> Result<Vec<String>> {
    names_where(conn, relation, "TRUE")
}

/// The columns of `relation` that are `VARCHAR`.
fn text_columns(conn: &duckdb::Connection, relation: &str) -> Result<Vec<String>> {
    names_where(conn, relation, "column_type = 'VARCHAR'")
}

/// The names of `relation`'s columns for which `condition` (over `DESCRIBE`) holds.
fn names_where(conn: &duckdb::Connection, relation: &str, condition: &str) -> Result<Vec<String>> {
    let action = format!("describing {relation}");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT column_name FROM (DESCRIBE {relation}) WHERE {condition}"
        ))
        .map_err(Error::db(&action))?;
    stmt.query_map([], |r| r.get(0))
        .map_err(Error::db(&action))?
        .collect::<duckdb::Result<_>>()
        .map_err(Error::db(&action))
}

/// `CREATE OR REPLACE TEMP TABLE <name> AS <the CSV's rows>`: every column text, an empty
/// cell NULL, in the file's order.
fn lookup_table(l: &Lookup) -> Result<String> {
    let bad = |e: csv::Error| Error::MappingSetup {
        mapping: l.name.clone(),
        detail: format!("the lookup table is not valid CSV: {e}"),
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(l.csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(quote_ident)
        .collect();
    let mut rows = String::new();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        let cells: Vec<String> = record
            .iter()
            .map(|c| {
                if c.is_empty() {
                    "CAST(NULL AS VARCHAR)".to_owned()
                } else {
                    quote_literal(c)
                }
            })
            .collect();
        if !rows.is_empty() {
            rows.push_str(", ");
        }
        let _ = write!(rows, "({})", cells.join(", "));
    }
    Ok(format!(
        "CREATE OR REPLACE TEMP TABLE {} AS SELECT * FROM (VALUES {rows}) AS t({})",
        quote_ident(&l.name),
        header.join(", ")
    ))
}

/// Runs `focus` over the raw rows of `csv` (a CSV text: a header of raw column names, then
/// rows; every value text, cast to the declared input types; a header `name::TYPE` casts
/// the column to `TYPE` first, for the maps and lists of Parquet exports), through core's
/// finishing step, on a fresh in-memory DuckDB; returns each output row as `column = value`
/// lines (NULLs left out, hidden columns dropped), rows in order of all their values, for
/// golden tests of a mapping.
pub fn golden(focus: &FocusSql, csv: &str) -> Result<String> {
    let conn = duckdb::Connection::open_in_memory().map_err(Error::db("opening DuckDB"))?;
    let action = "loading the golden input";
    let dir = tempfile::tempdir().map_err(Error::io("creating", std::env::temp_dir()))?;
    let path = dir.path().join("input.csv");
    std::fs::write(&path, csv).map_err(Error::io("writing", &path))?;
    conn.execute_batch(&format!(
        "CREATE TABLE raw AS SELECT * FROM read_csv({}, header = true, all_varchar = true, delim = ',', quote = '\"')",
        quote_literal(&path.display().to_string())
    ))
    .map_err(Error::db(action))?;
    // As staging types them: a declared input by its declared type, others as the header
    // says (`name::TYPE`), else text.
    let declared = focus.mapping.map(|m| m.inputs()).unwrap_or_default();
    let typed: Vec<String> = column_names(&conn, "raw")?
        .iter()
        .map(|c| {
            let (name, ty) = match c.split_once("::") {
                Some((name, ty)) => (name, Some(ty.to_owned())),
                None => (
                    c.as_str(),
                    declared.iter().find(|i| i.name == *c).map(|i| i.ty.clone()),
                ),
            };
            match ty {
                Some(ty) => format!("CAST({} AS {ty}) AS {}", quote_ident(c), quote_ident(name)),
                None => quote_ident(c),
            }
        })
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE typed AS SELECT {} FROM raw",
        typed.join(", ")
    ))
    .map_err(Error::db(action))?;
    let raw = column_names(&conn, "typed")?;
    let select = focus.install(&conn, "typed", &raw)?;
    let finished = super::finish::prepare(&conn, &select)?;
    conn.execute_batch(&format!("CREATE TABLE out AS {}", finished.sql))
        .map_err(Error::db(action))?;
    let visible: Vec<String> = column_names(&conn, "out")?
        .into_iter()
        .filter(|c| !c.starts_with(crate::precision::HIDDEN_PREFIX))
        .collect();
    let cells: Vec<String> = visible
        .iter()
        .map(|c| format!("CAST({} AS VARCHAR)", quote_ident(c)))
        .collect();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT * FROM (SELECT {} FROM out) ORDER BY ALL",
            cells.join(", ")
        ))
        .map_err(Error::db(action))?;
    let rows = stmt
        .query_map([], |r| {
            (0..visible.len())
                .map(|i| r.get::<_, Option<String>>(i))
                .collect::<duckdb::Result<Vec<_>>>()
        })
        .map_err(Error::db(action))?
        .collect::<duckdb::Result<Vec<_>>>()
        .map_err(Error::db(action))?;
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let _ = writeln!(out, "## row {}", n + 1);
        for (c, v) in visible.iter().zip(row) {
            if let Some(v) = v {
                let _ = writeln!(out, "{c} = {v}");
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// Compares [`golden`]'s output for the input file `input` with the file `expected` (paths
/// relative to the calling crate, as `env!("CARGO_MANIFEST_DIR")` gives it); with
/// `FINOPS_UPDATE_GOLDEN=1` in the environment, writes `expected` instead. Panics with the
/// first differing row on a mismatch.
pub fn check_golden(focus: &FocusSql, crate_dir: &str, input: &str, expected: &str) {
    // `cargo test` sets the variable when the test runs too: prefer it, so that a test binary
    // built in another checkout sharing the target directory reads this checkout's files.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(crate_dir),
        std::path::PathBuf::from,
    );
    let dir = dir.as_path();
    let csv =
        std::fs::read_to_string(dir.join(input)).unwrap_or_else(|e| panic!("reading {input}: {e}"));
    let got =
        golden(focus, &csv).unwrap_or_else(|e| panic!("{input}: {:?}", miette::Report::new(e)));
    let path = dir.join(expected);
    if std::env::var_os("FINOPS_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap_or_else(|e| panic!("writing {expected}: {e}"));
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if got == want {
        return;
    }
    let rows = |t: &str| t.split("\n\n").map(str::to_owned).collect::<Vec<_>>();
    let (g, w) = (rows(&got), rows(&want));
    let first = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    panic!(
        "{expected} does not match the mapping's output over {input} (rows: {} now, {} expected); \
         first difference:\n--- expected\n{}\n--- got\n{}\n\
         If the change is intended, review it and run with FINOPS_UPDATE_GOLDEN=1.",
        g.len(),
        w.len(),
        w.get(first).map_or("(none)", String::as_str),
        g.get(first).map_or("(none)", String::as_str),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: Mapping = Mapping {
        name: "demo.sql",
        sql: "-- A demo.\n-- inputs:\n--   kind  VARCHAR\n--   cost  DECIMAL(38, 18)  -- money\n--   tag   VARCHAR\n-- lookups:\n--   names  data/names.csv\n\
              CREATE OR REPLACE TEMP MACRO twice(x) AS x * 2;\n\
              SELECT kind, twice(cost) AS c, tag, names.long FROM finops_period LEFT JOIN names ON names.short = kind;\n",
    };

    #[test]
    fn header_blocks_and_statements() {
        assert_eq!(
            DEMO.inputs(),
            [
                Input {
                    name: "kind".into(),
                    ty: "VARCHAR".into()
                },
                Input {
                    name: "cost".into(),
                    ty: "DECIMAL(38, 18)".into()
                },
                Input {
                    name: "tag".into(),
                    ty: "VARCHAR".into()
                },
            ]
        );
        assert_eq!(
            DEMO.lookups(),
            [("names".to_owned(), "data/names.csv".to_owned())]
        );
        let (setup, select) = DEMO.statements();
        assert_eq!(setup.len(), 1, "{setup:?}");
        assert!(select.starts_with("SELECT kind"), "{select}");

        // A comment line may end in a semicolon; it ends no statement.
        let commented = Mapping {
            name: "commented.sql",
            sql: "CREATE OR REPLACE TEMP MACRO one() AS 1;\n-- first this;\n-- then that;\nWITH a AS (SELECT one() AS x)\nSELECT x FROM a;\n",
        };
        let (setup, select) = commented.statements();
        assert_eq!(setup, ["CREATE OR REPLACE TEMP MACRO one() AS 1;"]);
        assert_eq!(
            select,
            "-- first this;\n-- then that;\nWITH a AS (SELECT one() AS x)\nSELECT x FROM a"
        );
    }

    #[test]
    fn absent_inputs_are_typed_nulls_and_computed_ones_win() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE r AS SELECT 'u' AS KIND, 'x' AS other")
            .unwrap();
        let focus = FocusSql::mapping(DEMO)
            .compute("tag", "upper(other)")
            .lookup("names", "short,long\nu,Usage\nv,\n");
        let select = focus
            .install(&conn, "r", &["KIND".into(), "other".into()])
            .unwrap();
        let row: (String, Option<String>, String, String) = conn
            .query_row(
                &format!("SELECT kind, CAST(c AS VARCHAR), tag, long FROM ({select})"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(row, ("u".into(), None, "X".into(), "Usage".into()));
        let ty: String = conn
            .query_row(
                "SELECT column_type FROM (DESCRIBE finops_period) WHERE column_name = 'cost'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(ty, "DECIMAL(38,18)");
        let empty: Option<String> = conn
            .query_row("SELECT long FROM names WHERE short = 'v'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(empty, None, "an empty cell is NULL");
    }

    #[test]
    #[should_panic(expected = "not a declared input")]
    fn computing_an_undeclared_input_is_a_bug() {
        let _ = FocusSql::mapping(DEMO).compute("nope", "1");
    }

    #[test]
    fn a_missing_lookup_is_an_error() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE r AS SELECT 1 AS kind")
            .unwrap();
        let err = FocusSql::mapping(DEMO)
            .install(&conn, "r", &["kind".into()])
            .unwrap_err();
        assert!(err.to_string().contains("`names` was not given"), "{err}");
    }
}

#[cfg(test)]
mod check_tests {
    use super::Mapping;

    #[test]
    fn a_foreign_mapping_is_checked_without_panicking() {
        let ok = Mapping {
            name: "x.sql",
            sql: "-- inputs:\n--   amount  DECIMAL(38, 18)\nSELECT amount AS BilledCost FROM finops_period",
        };
        assert_eq!(ok.check(), Ok(()));
        let untyped = Mapping {
            name: "x.sql",
            sql: "-- inputs:\n--   amount\nSELECT 1",
        };
        assert!(
            untyped
                .check()
                .unwrap_err()
                .contains("`amount` has no type")
        );
        let none = Mapping {
            name: "x.sql",
            sql: "SELECT 1",
        };
        assert!(none.check().unwrap_err().contains("declares no inputs"));
        let no_select = Mapping {
            name: "x.sql",
            sql: "-- inputs:\n--   a  VARCHAR\n",
        };
        assert!(no_select.check().unwrap_err().contains("no SELECT"));
    }
}
