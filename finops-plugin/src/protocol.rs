//! Protocol version 1: one JSON request on a plugin's standard input, one JSON reply on its
//! standard output, per call (`describe`, `list`, `fetch`). The JSON Schemas of every message
//! are in `docs/plugins/` and the tests check these types against them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version spoken here.
pub const PROTOCOL: u32 = 1;

/// A request.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "call", rename_all = "lowercase")]
pub enum Request {
    /// Who the plugin is.
    Describe {
        /// [`PROTOCOL`].
        protocol: u32,
    },
    /// The exports at the configured location.
    List {
        /// [`PROTOCOL`].
        protocol: u32,
        /// The plugin's config section (its keys without the section name).
        config: serde_json::Map<String, serde_json::Value>,
    },
    /// One delivery's files, into `dir`.
    Fetch {
        /// [`PROTOCOL`].
        protocol: u32,
        /// The plugin's config section.
        config: serde_json::Map<String, serde_json::Value>,
        /// The export.
        export: String,
        /// `YYYY-MM`.
        period: String,
        /// The version `list` gave.
        version: String,
        /// The files `list` gave.
        files: Vec<ListedFile>,
        /// The staging directory to write them into (absolute; empty, created by finops).
        dir: String,
    },
}

/// Any reply: the protocol it speaks, and an error or the call's answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Envelope {
    /// The plugin's protocol version.
    pub protocol: Option<u32>,
    /// A failure the plugin reports itself.
    pub error: Option<PluginError>,
    /// The rest: the call's answer.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// A failure a plugin reports (bad config, access denied…).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginError {
    /// What went wrong.
    pub message: String,
    /// What the user can do.
    #[serde(default)]
    pub help: Option<String>,
}

/// `describe`'s answer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Describe {
    /// Its name: must be the name it was found under.
    pub name: String,
    /// Its own version.
    pub version: String,
    /// One line for `--help`.
    #[serde(default)]
    pub description: Option<String>,
    /// Its config keys.
    #[serde(default)]
    pub keys: Vec<KeyDecl>,
    /// What its files are.
    pub format: Format,
}

/// One config key a plugin takes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyDecl {
    /// The key within the plugin's section (`path`, `token`).
    pub name: String,
    /// One line of documentation.
    #[serde(default)]
    pub doc: String,
    /// Masked in `config show` and logs; never given as a flag.
    #[serde(default)]
    pub secret: bool,
    /// Also a flag of `import` and `list-exports` (`--path`).
    #[serde(default)]
    pub flag: bool,
}

/// The form of a plugin's data files.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Format {
    /// `focus`: FOCUS 1.0 to 1.3 columns, upgraded by core; `raw`: any columns, turned into
    /// FOCUS by `mapping`.
    pub data: DataKind,
    /// `csv` (optionally gzip) or `parquet`.
    pub files: FileFormat,
    /// For `raw`: the FOCUS mapping, in the form of the built-in ones (docs/plugins.md).
    #[serde(default)]
    pub mapping: Option<MappingFile>,
    /// For `raw`: the raw column (`snake_case`) whose sum is a period's cost in the load state.
    #[serde(default)]
    pub cost_column: Option<String>,
}

/// A FOCUS mapping a plugin ships: a SQL file over the view `finops_period`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// Its file name, for messages.
    pub name: String,
    /// Its text.
    pub sql: String,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = match self.data {
            DataKind::Focus => "FOCUS",
            DataKind::Raw => "raw rows mapped to FOCUS",
        };
        let files = match self.files {
            FileFormat::Csv => "CSV",
            FileFormat::Parquet => "Parquet",
        };
        write!(f, "{data} in {files} files")
    }
}

/// What the columns are.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// FOCUS columns (any version 1.0 to 1.3).
    Focus,
    /// Any columns, with a mapping to FOCUS.
    Raw,
}

/// How the files are written.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// CSV with a header, plain or gzip.
    Csv,
    /// Parquet.
    Parquet,
}

/// `list`'s answer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct List {
    /// The exports.
    pub exports: Vec<ListedExport>,
}

/// One export.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedExport {
    /// Its name (the load state's, and `x_source` = `<plugin>/<name>`).
    pub name: String,
    /// Its kind, in the load state (`focus`).
    #[serde(default = "focus_kind")]
    pub kind: String,
    /// Its billing periods, each in its current version.
    pub periods: Vec<ListedPeriod>,
}

fn focus_kind() -> String {
    "focus".into()
}

/// One billing period of an export.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedPeriod {
    /// `YYYY-MM`.
    pub period: String,
    /// Changes whenever the period's data changes.
    pub version: String,
    /// Its files.
    pub files: Vec<ListedFile>,
}

/// One file of a period, as listed.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListedFile {
    /// Its name (unique within the period).
    pub name: String,
    /// Its size in bytes, when known.
    #[serde(default)]
    pub size: Option<u64>,
}

/// `fetch`'s answer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetch {
    /// The files written.
    pub files: Vec<FetchedFile>,
}

/// One file written into the staging directory.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchedFile {
    /// Its path, relative to the staging directory.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// The periods of `list` by export and period, refusing one listed twice.
pub fn index(list: &List) -> Result<BTreeMap<(String, String), &ListedPeriod>, String> {
    let mut out = BTreeMap::new();
    for e in &list.exports {
        for p in &e.periods {
            if out.insert((e.name.clone(), p.period.clone()), p).is_some() {
                return Err(format!(
                    "it lists period {} of export `{}` twice",
                    p.period, e.name
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_and_periods_are_unique() {
        let d: Describe = serde_json::from_str(
            r#"{"name": "acme", "version": "1.0", "keys": [{"name": "token", "secret": true}], "format": {"data": "focus", "files": "parquet"}}"#,
        )
        .unwrap();
        assert!(d.keys[0].secret && !d.keys[0].flag);
        assert_eq!(d.format.to_string(), "FOCUS in Parquet files");
        assert!(
            serde_json::from_str::<Describe>(
                r#"{"name": "a", "version": "1", "format": {"data": "xml", "files": "csv"}}"#
            )
            .is_err(),
            "an unknown data kind is refused"
        );
        let list: List = serde_json::from_str(
            r#"{"exports": [{"name": "e", "periods": [
                {"period": "2026-10", "version": "v1", "files": [{"name": "a.csv", "size": 3}]},
                {"period": "2026-10", "version": "v2", "files": [{"name": "b.csv"}]}]}]}"#,
        )
        .unwrap();
        assert_eq!(list.exports[0].kind, "focus");
        assert!(
            index(&list)
                .unwrap_err()
                .contains("period 2026-10 of export `e` twice")
        );
        let req = serde_json::to_value(Request::Describe { protocol: PROTOCOL }).unwrap();
        assert_eq!(req, serde_json::json!({"call": "describe", "protocol": 1}));
    }
}
