//! Configuration: defaults < TOML file < `FINOPS_*` environment < command-line flags.
//!
//! Every key is declared once, as a [`KeySpec`] (core's in [`CORE_KEYS`], each vendor's in its
//! own `config.rs`). From that one table come the environment variable names
//! (`warehouse.path` ↔ `FINOPS_WAREHOUSE_PATH`), unknown-key detection with a suggestion,
//! and `finops config show`. Sections are deserialized with serde through figment.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use miette::NamedSource;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::env;
use crate::error::{Error, Result};
use crate::redacted::MASK;

/// The type of a config value, for parsing environment variables and masking secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Str,
    /// A whole number.
    Int,
    /// `true`/`false`.
    Bool,
    /// Text that is never printed.
    Secret,
}

/// One configuration key: its dotted name, type, default and documentation.
#[derive(Debug)]
pub struct KeySpec {
    /// Dotted key, `section.name`.
    pub key: &'static str,
    /// Value type.
    pub kind: Kind,
    /// The default as displayed by `config show`, if there is one.
    pub default: Option<&'static str>,
    /// The command-line flag that sets it, if any.
    pub flag: Option<&'static str>,
    /// The value's name in `--help` (`BUCKET`) when the flag is one of the vendor's location
    /// arguments, which core builds from this spec ([`location_args`]); `None` for a key
    /// without a flag, or whose flag core declares itself (`--concurrency`, `--warehouse`).
    pub value_name: Option<&'static str>,
    /// Another name of the flag (`--export` for `--report`).
    pub alias: Option<&'static str>,
    /// One line of documentation: `--help`, `config show` and the README's table use it.
    pub doc: &'static str,
}

impl KeySpec {
    /// The environment variable for this key: `FINOPS_` + the key upper-cased, `.` → `_`.
    pub fn env_name(&self) -> String {
        format!(
            "{}{}",
            env::PREFIX,
            self.key.replace(['.', '-'], "_").to_ascii_uppercase()
        )
    }

    /// The section (`warehouse` of `warehouse.path`).
    pub fn section(&self) -> &'static str {
        self.key.split_once('.').map_or(self.key, |(s, _)| s)
    }

    /// The flag's help: the documentation line, capitalised, and the key it sets.
    pub fn help(&self) -> String {
        let mut chars = self.doc.chars();
        let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
        format!(
            "{}{} [config: {}]",
            first.unwrap_or_default(),
            chars.as_str(),
            self.key
        )
    }

    /// A [`Error::MissingSetting`] for this key.
    pub fn missing(&self) -> Error {
        Error::MissingSetting {
            key: self.key.to_owned(),
            flag: self.flag.unwrap_or("(no flag)").to_owned(),
            env: self.env_name(),
        }
    }
}

/// Keys owned by core.
pub const CORE_KEYS: &[KeySpec] = &[
    KeySpec {
        key: "warehouse.path",
        kind: Kind::Str,
        default: Some(DEFAULT_WAREHOUSE),
        flag: Some("--warehouse"),
        value_name: None,
        alias: None,
        doc: "the DuckDB file finops writes",
    },
    KeySpec {
        key: "warehouse.memory_limit",
        kind: Kind::Str,
        default: Some(DEFAULT_MEMORY_LIMIT),
        flag: None,
        value_name: None,
        alias: None,
        doc: "DuckDB memory_limit of every command (imports, reports, lake sync); more spills to disk beside the warehouse",
    },
    KeySpec {
        key: "warehouse.threads",
        kind: Kind::Int,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "DuckDB worker threads (default: one per core)",
    },
    KeySpec {
        key: "warehouse.wait_lock",
        kind: Kind::Int,
        default: Some("0"),
        flag: Some("--wait-lock"),
        value_name: None,
        alias: None,
        doc: "seconds to wait for another process's lock on the warehouse before failing",
    },
    KeySpec {
        key: "import.rounding_tolerance",
        kind: Kind::Str,
        default: Some("1e-9"),
        flag: None,
        value_name: None,
        alias: None,
        doc: "largest total rounding of one money column in one period, in currency units; more fails the period",
    },
    KeySpec {
        key: "focus.version",
        kind: Kind::Str,
        default: Some("1.3"),
        flag: Some("--version"),
        value_name: None,
        alias: None,
        doc: "FOCUS version for export and validation: 1.2 or 1.3",
    },
    KeySpec {
        key: "lake.url",
        kind: Kind::Str,
        default: None,
        flag: None,
        value_name: None,
        alias: None,
        doc: "Delta Lake table (s3://, az://, gs://, file://) that `finops lake` and every import write to",
    },
    KeySpec {
        key: "lake.file_size",
        kind: Kind::Str,
        default: Some("128MB"),
        flag: None,
        value_name: None,
        alias: None,
        doc: "target size of one data file of the lake",
    },
    KeySpec {
        key: "lake.row_group_size",
        kind: Kind::Int,
        default: Some("122880"),
        flag: None,
        value_name: None,
        alias: None,
        doc: "rows per Parquet row group in the lake's files",
    },
    KeySpec {
        key: "output.format",
        kind: Kind::Str,
        default: Some("table"),
        flag: Some("--format"),
        value_name: None,
        alias: None,
        doc: "table or json",
    },
];

/// Sections written as arrays of tables (`[[budgets]]`, `[[hooks]]`): each entry is checked
/// by its own type (unknown fields are refused there), read with [`Settings::list`].
pub const LIST_SECTIONS: &[&str] = &["budgets", "hooks", "plugins", "dimensions", "allocations"];

/// Sections of free-form keys (`[tags]`, whose `aliases` are the user's own names): checked
/// by their own type, read with [`Settings::typed_section`].
pub const TYPED_SECTIONS: &[&str] = &["tags"];

/// Default DuckDB file, relative to the working directory.
pub const DEFAULT_WAREHOUSE: &str = "finops.duckdb";
/// Default DuckDB `memory_limit`.
pub const DEFAULT_MEMORY_LIMIT: &str = "1GB";

/// `[warehouse]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseConfig {
    /// The DuckDB file.
    pub path: PathBuf,
    /// DuckDB `memory_limit`: a size such as `1GB` or `512MB`.
    #[serde(deserialize_with = "memory_size")]
    pub memory_limit: String,
    /// DuckDB `threads`.
    pub threads: Option<u32>,
    /// Seconds to wait for another writer's lock.
    pub wait_lock: u64,
}

impl Default for WarehouseConfig {
    /// The declared defaults of its keys.
    fn default() -> Self {
        defaults(CORE_KEYS, "warehouse")
    }
}

/// `[import]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImportConfig {
    /// Largest total rounding of one money column in one period, in currency units.
    #[serde(deserialize_with = "tolerance")]
    pub rounding_tolerance: f64,
}

impl Default for ImportConfig {
    /// The declared defaults of its keys.
    fn default() -> Self {
        defaults(CORE_KEYS, "import")
    }
}

/// A memory size as DuckDB takes it: a number and a unit (`1GB`, `512MB`, `1.5 GiB`), checked
/// here because DuckDB's own answer to `abc` is `set max_memory:abc error` and to `-5GB` no
/// limit at all.
fn memory_size<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Text(String),
        Number(f64),
    }
    match Size::deserialize(d)? {
        Size::Text(s) => {
            check_memory_size(&s).map_err(serde::de::Error::custom)?;
            Ok(s)
        }
        Size::Number(n) => Err(serde::de::Error::custom(format!(
            "`{n}` has no unit: write the size as text with its unit, such as \"{n}GB\""
        ))),
    }
}

/// Whether `s` is a memory size DuckDB reads (see [`WarehouseConfig::memory_limit`]).
pub fn check_memory_size(s: &str) -> std::result::Result<(), String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let units = [
        "b",
        "kb",
        "mb",
        "gb",
        "tb",
        "kib",
        "mib",
        "gib",
        "tib",
        "bytes",
        "kilobytes",
        "megabytes",
        "gigabytes",
        "terabytes",
    ];
    let ok = number.parse::<f64>().is_ok_and(|n| n > 0.0) && units.contains(&unit.as_str());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a memory size: write a positive number and a unit, such as \"1GB\" or \"512MB\""
        ))
    }
}

/// A non-negative finite number, written as a number or as text (`"1e-9"`).
fn tolerance<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        F(f64),
        S(String),
    }
    let v = match Num::deserialize(d)? {
        Num::F(f) => f,
        Num::S(s) => s.trim().parse::<f64>().map_err(|_| {
            serde::de::Error::custom(format!("`{s}` is not a number (write it like `1e-9`)"))
        })?,
    };
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "`{v}` is not a tolerance: give a non-negative amount such as `1e-9`"
        )))
    }
}

/// `[output]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Output format.
    pub format: crate::output::Format,
}

impl Default for OutputConfig {
    /// The declared defaults of its keys.
    fn default() -> Self {
        defaults(CORE_KEYS, "output")
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Built-in default.
    Default,
    /// A config file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(p) => write!(f, "file {}", p.display()),
            Self::Env(v) => write!(f, "env {v}"),
            Self::Flag(fl) => write!(f, "flag {fl}"),
        }
    }
}

/// One layer of values with a name for error messages.
struct Layer {
    name: String,
    data: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

/// The resolved configuration: every layer merged, with the origin of every key.
pub struct Settings {
    figment: Figment,
    specs: Vec<&'static KeySpec>,
    origins: BTreeMap<&'static str, Origin>,
    file: Option<PathBuf>,
}

/// One row of `finops config show`.
#[derive(Debug, Serialize)]
pub struct ShownKey {
    /// Dotted key.
    pub key: &'static str,
    /// Its value, secrets masked; `None` when unset.
    pub value: Option<String>,
    /// Where the value came from.
    pub origin: String,
    /// Its environment variable.
    pub env: String,
}

impl Settings {
    /// Loads the file (explicit path, `$FINOPS_CONFIG`, `./finops.toml`, or
    /// `$XDG_CONFIG_HOME/finops/finops.toml`) and the environment, for the given keys.
    ///
    /// `foreign_sections` are sections that are valid but not described here (vendors that
    /// are not compiled in); their contents are not checked.
    pub fn load(
        explicit: Option<&Path>,
        specs: Vec<&'static KeySpec>,
        foreign_sections: &[&str],
    ) -> Result<Self> {
        Self::load_with_env(explicit, specs, foreign_sections, env::finops_vars())
    }

    /// [`Settings::load`] with the `FINOPS_*` variables given instead of read from the process.
    pub fn load_with_env(
        explicit: Option<&Path>,
        specs: Vec<&'static KeySpec>,
        foreign_sections: &[&str],
        vars: Vec<(String, String)>,
    ) -> Result<Self> {
        let file = find_config_file(explicit)?;
        let mut settings = Self {
            figment: Figment::new(),
            specs,
            origins: BTreeMap::new(),
            file: None,
        };
        // The declared defaults, below everything the user sets.
        let defaults = defaults_dict(settings.specs.iter().copied());
        settings.figment = std::mem::take(&mut settings.figment).merge(Layer {
            name: "the defaults".into(),
            data: defaults,
        });
        if let Some(path) = file {
            settings.merge_file(&path, foreign_sections)?;
        }
        settings.merge_env(vars)?;
        Ok(settings)
    }

    fn spec(&self, key: &str) -> Option<&'static KeySpec> {
        self.specs.iter().copied().find(|s| s.key == key)
    }

    fn merge_file(&mut self, path: &Path, foreign_sections: &[&str]) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.into(),
            source,
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| Error::ConfigSyntax {
            path: path.display().to_string(),
            src: NamedSource::new(path.display().to_string(), text.clone()),
            span: e.span().map(Into::into),
            message: e.message().to_owned(),
        })?;
        let origin = path.display().to_string();
        let mut keys = Vec::new();
        for (section, value) in &table {
            match value {
                toml::Value::Table(inner) if self.specs.iter().any(|s| s.section() == section) => {
                    keys.extend(inner.keys().map(|k| format!("{section}.{k}")));
                }
                _ if foreign_sections.contains(&section.as_str()) => {}
                toml::Value::Array(_) if LIST_SECTIONS.contains(&section.as_str()) => {}
                toml::Value::Table(_) if TYPED_SECTIONS.contains(&section.as_str()) => {}
                toml::Value::Table(inner) if !inner.is_empty() => {
                    keys.extend(inner.keys().map(|k| format!("{section}.{k}")));
                }
                _ => keys.push(section.clone()),
            }
        }
        for key in keys {
            match self.spec(&key) {
                Some(spec) => {
                    self.origins.insert(spec.key, Origin::File(path.into()));
                }
                None => return Err(self.unknown_key(&key, &origin)),
            }
        }
        let mut dict = Dict::new();
        for (section, value) in table {
            if !foreign_sections.contains(&section.as_str()) {
                dict.insert(section, toml_to_figment(value));
            }
        }
        self.figment = std::mem::take(&mut self.figment).merge(Layer {
            name: format!("`{origin}`"),
            data: dict,
        });
        self.file = Some(path.into());
        Ok(())
    }

    fn merge_env(&mut self, vars: Vec<(String, String)>) -> Result<()> {
        for (name, raw) in vars {
            let Some(spec) = self.specs.iter().copied().find(|s| s.env_name() == name) else {
                if env::NOT_KEYS.contains(&name.as_str()) || name.starts_with("FINOPS_TEST_") {
                    continue;
                }
                if let Some(close) = self.closest_env(&name) {
                    tracing::warn!("ignoring environment variable {name}; did you mean {close}?");
                }
                continue;
            };
            if raw.is_empty() {
                continue;
            }
            let value = parse_kind(spec, &raw).map_err(|why| Error::ConfigInvalid {
                message: format!("environment variable `{name}`: {why}"),
            })?;
            self.set(
                spec,
                value,
                Origin::Env(name.clone()),
                format!("environment variable `{name}`"),
            );
        }
        Ok(())
    }

    fn set(&mut self, spec: &'static KeySpec, value: Value, origin: Origin, name: String) {
        self.figment = std::mem::take(&mut self.figment).merge(Layer {
            name,
            data: figment::util::nest(spec.key, value)
                .into_dict()
                .unwrap_or_default(),
        });
        self.origins.insert(spec.key, origin);
    }

    /// Applies command-line flags: `(key, value)` pairs for the flags the user gave.
    /// Panics in debug builds on a key that is not declared (a programming error).
    pub fn apply_flags(&mut self, flags: impl IntoIterator<Item = (&'static str, FlagValue)>) {
        for (key, value) in flags {
            let Some(spec) = self.spec(key) else {
                debug_assert!(false, "flag for undeclared key {key}");
                continue;
            };
            let flag = spec.flag.unwrap_or(key).to_owned();
            let value = match value {
                FlagValue::Str(s) => Value::from(s),
                FlagValue::Int(i) => Value::from(i),
                FlagValue::Bool(b) => Value::from(b),
            };
            self.set(
                spec,
                value,
                Origin::Flag(flag.clone()),
                format!("flag `{flag}`"),
            );
        }
    }

    /// Deserializes one section (`warehouse`, `aws`…); a key nobody set has its declared
    /// default ([`KeySpec::default`]), or is unset.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        match self.figment.find_value(name) {
            Err(_) => Value::from(Dict::new())
                .deserialize()
                .map_err(|e| self.invalid(name, &e)),
            Ok(_) => self
                .figment
                .extract_inner(name)
                .map_err(|e| self.invalid(name, &e)),
        }
    }

    /// A figment error as `` `warehouse.memory_limit` (file finops.toml): <what> ``: the key
    /// as the user writes it, and where its value came from.
    fn invalid(&self, section: &str, e: &figment::Error) -> Error {
        let field = e
            .path
            .iter()
            .filter(|p| *p != "default" && *p != section)
            .cloned()
            .collect::<Vec<_>>()
            .join(".");
        let key = if field.is_empty() {
            section.to_owned()
        } else {
            format!("{section}.{field}")
        };
        let origin = self.specs.iter().find(|s| s.key == key).map_or_else(
            || "its source".to_owned(),
            |s| self.origin(s.key).to_string(),
        );
        let kind = match &e.kind {
            figment::error::Kind::Message(m) => m.clone(),
            other => other.to_string(),
        };
        Error::ConfigInvalid {
            message: format!("`{key}` ({origin}): {kind}"),
        }
    }

    /// Deserializes an array-of-tables section (`[[budgets]]`); empty when absent.
    pub fn list<T: DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        debug_assert!(
            LIST_SECTIONS.contains(&name),
            "undeclared list section {name}"
        );
        match self.figment.find_value(name) {
            Err(_) => Ok(Vec::new()),
            Ok(_) => self.figment.extract_inner(name).map_err(|e| {
                // figment's path reads `default.0.fliter.budgets`: name the entry instead.
                let entry = e
                    .path
                    .iter()
                    .find_map(|p| p.parse::<usize>().ok())
                    .map_or_else(String::new, |i| format!(" #{}", i + 1));
                Error::ConfigInvalid {
                    message: format!("[[{name}]]{entry}: {}", e.kind),
                }
            }),
        }
    }

    /// Deserializes a free-form section (`[tags]`); `None` when absent.
    pub fn typed_section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        debug_assert!(
            TYPED_SECTIONS.contains(&name),
            "undeclared typed section {name}"
        );
        match self.figment.find_value(name) {
            Err(_) => Ok(None),
            Ok(_) => self
                .figment
                .extract_inner(name)
                .map(Some)
                .map_err(|e| Error::ConfigInvalid {
                    message: format!("[{name}]: {}", e.kind),
                }),
        }
    }

    /// The value of `key` as text, when a layer sets it.
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.figment.find_value(key) {
            Ok(Value::String(_, s)) => Some(s),
            Ok(v) => Some(display_value(&v)),
            Err(_) => None,
        }
    }

    /// Where `key` came from.
    pub fn origin(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }

    /// The config file that was read, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Every declared key with its value and origin, secrets masked.
    pub fn show(&self) -> Vec<ShownKey> {
        self.specs
            .iter()
            .map(|spec| {
                let value = match self.figment.find_value(spec.key) {
                    Ok(_) if spec.kind == Kind::Secret => Some(MASK.to_owned()),
                    Ok(v) => Some(display_value(&v)),
                    Err(_) => spec.default.map(str::to_owned),
                };
                ShownKey {
                    key: spec.key,
                    value,
                    origin: self.origin(spec.key).to_string(),
                    env: spec.env_name(),
                }
            })
            .collect()
    }

    fn unknown_key(&self, key: &str, origin: &str) -> Error {
        let section = key.split_once('.').map(|(s, _)| s);
        let unknown_section =
            section.is_some_and(|sec| !self.specs.iter().any(|s| s.section() == sec));
        let suggestion = self
            .specs
            .iter()
            // A key of an unknown section is another section's only when the sections
            // themselves are alike (`[aws_]`), not `[focus-folder]` for `focus.version`.
            .filter(|s| {
                !unknown_section
                    || section.is_some_and(|sec| strsim::jaro_winkler(sec, s.section()) > 0.9)
            })
            .map(|s| (strsim::jaro_winkler(key, s.key), s.key))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k.to_owned());
        Error::UnknownConfigKey {
            key: key.to_owned(),
            origin: format!("`{origin}`"),
            suggestion,
            unknown_section,
        }
    }

    fn closest_env(&self, name: &str) -> Option<String> {
        self.specs
            .iter()
            .map(|s| s.env_name())
            .map(|e| (strsim::jaro_winkler(name, &e), e))
            .filter(|(score, _)| *score > 0.9)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, e)| e)
    }
}

/// A value given on the command line.
#[derive(Clone, Debug)]
pub enum FlagValue {
    /// Text.
    Str(String),
    /// A number.
    Int(i64),
    /// A switch.
    Bool(bool),
}

/// Adds the location flags of `keys` (those with a [`KeySpec::value_name`]) to `cmd`, under
/// an "Export location" heading: each vendor's `--bucket`, `--path`, `--container`… come from
/// its key table, with the key's documentation as their help. Later arguments go under
/// the default heading again.
pub fn location_args(cmd: clap::Command, keys: &'static [KeySpec]) -> clap::Command {
    let mut cmd = cmd.next_help_heading("Export location");
    for spec in keys {
        let (Some(flag), Some(value_name)) = (spec.flag, spec.value_name) else {
            continue;
        };
        let mut arg = clap::Arg::new(spec.key)
            .long(flag.trim_start_matches('-'))
            .help(spec.help());
        arg = match spec.kind {
            Kind::Bool => arg.action(clap::ArgAction::SetTrue),
            Kind::Int => arg
                .value_name(value_name)
                .value_parser(clap::value_parser!(i64)),
            Kind::Str | Kind::Secret => arg.value_name(value_name),
        };
        if let Some(alias) = spec.alias {
            arg = arg.visible_alias(alias);
        }
        cmd = cmd.arg(arg);
    }
    cmd.next_help_heading(None::<&str>)
}

/// The location flags of `keys` that the user gave, for [`Settings::apply_flags`].
pub fn location_flags(
    keys: &'static [KeySpec],
    matches: &clap::ArgMatches,
) -> Vec<(&'static str, FlagValue)> {
    let mut out = Vec::new();
    for spec in keys
        .iter()
        .filter(|s| s.flag.is_some() && s.value_name.is_some())
    {
        let given = matches.value_source(spec.key) == Some(clap::parser::ValueSource::CommandLine);
        if !given {
            continue;
        }
        let value = match spec.kind {
            Kind::Bool => FlagValue::Bool(matches.get_flag(spec.key)),
            Kind::Int => match matches.get_one::<i64>(spec.key) {
                Some(i) => FlagValue::Int(*i),
                None => continue,
            },
            Kind::Str | Kind::Secret => match matches.get_one::<String>(spec.key) {
                Some(v) => FlagValue::Str(v.clone()),
                None => continue,
            },
        };
        out.push((spec.key, value));
    }
    out
}

/// The configuration table of the README for `keys`: key, environment variable, flag,
/// default and meaning, one row per key, in order. A test keeps the README's copy current.
pub fn markdown_table(keys: &[&KeySpec]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('<', "&lt;");
    let mut out = String::from(
        "| key | env | flag | default | meaning |\n|-----|-----|------|---------|---------|\n",
    );
    for k in keys {
        let default = match k.default {
            Some("") => "`\"\"`".to_owned(),
            Some(d) => format!("`{d}`"),
            None => String::new(),
        };
        let flag = k.flag.map(|f| format!("`{f}`")).unwrap_or_default();
        let secret = if k.kind == Kind::Secret {
            "; a secret, never printed"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {flag} | {default} | {}{secret} |",
            k.key,
            k.env_name(),
            cell(k.doc)
        );
    }
    out
}

/// The declared defaults of `specs`, as one dictionary (`{"aws": {"prefix": "", …}}`).
fn defaults_dict<'a>(specs: impl IntoIterator<Item = &'a KeySpec>) -> Dict {
    let mut figment = Figment::new();
    for spec in specs {
        let Some(raw) = spec.default else { continue };
        let value = parse_kind(spec, raw)
            .unwrap_or_else(|why| panic!("the default of {} is not valid: {why}", spec.key));
        figment = figment.merge(Layer {
            name: "default".into(),
            data: figment::util::nest(spec.key, value)
                .into_dict()
                .unwrap_or_default(),
        });
    }
    figment
        .data()
        .ok()
        .and_then(|mut m| m.remove(&Profile::Default))
        .unwrap_or_default()
}

/// `<vendor>.concurrency`, which every vendor that downloads declares alike: files downloaded
/// at once, 4 by default, set by the `--concurrency` flag core gives `import`.
pub const fn concurrency_key(key: &'static str) -> KeySpec {
    KeySpec {
        key,
        kind: Kind::Int,
        default: Some("4"),
        flag: Some("--concurrency"),
        value_name: None,
        alias: None,
        doc: "files downloaded at once",
    }
}

/// The spec of `key` among a vendor's `keys` (a programming error if it is not declared).
pub fn spec_of(keys: &'static [KeySpec], key: &str) -> &'static KeySpec {
    keys.iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("undeclared key {key}"))
}

/// The section `section` with every key at its declared default (its [`KeySpec::default`]):
/// what a section's `Default` is, so that the struct, `config show` and the README cannot
/// disagree about a default. A key without a default is unset (`None`).
pub fn defaults<T: DeserializeOwned>(keys: &[KeySpec], section: &str) -> T {
    let dict = defaults_dict(keys.iter().filter(|k| k.section() == section));
    let value = dict
        .get(section)
        .cloned()
        .unwrap_or_else(|| Value::from(Dict::new()));
    value
        .deserialize()
        .unwrap_or_else(|e| panic!("the declared defaults of [{section}] do not deserialize: {e}"))
}

/// One array-of-tables section (`[[plugins]]`) of the config file, read before [`Settings`]
/// exist (the entries decide which keys there are); empty without a file or section. Syntax
/// and shape errors are reported as [`Settings::load`] reports them.
pub fn early_list<T: DeserializeOwned>(explicit: Option<&Path>, name: &str) -> Result<Vec<T>> {
    let Some(path) = find_config_file(explicit)? else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&path).map_err(|source| Error::ConfigRead {
        path: path.clone(),
        source,
    })?;
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| Error::ConfigSyntax {
        path: path.display().to_string(),
        src: NamedSource::new(path.display().to_string(), text.clone()),
        span: e.span().map(Into::into),
        message: e.message().to_owned(),
    })?;
    let Some(value) = table.remove(name) else {
        return Ok(Vec::new());
    };
    let toml::Value::Array(entries) = value else {
        return Err(Error::ConfigInvalid {
            message: format!(
                "`{name}` in {} must be an array of tables ([[{name}]])",
                path.display()
            ),
        });
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            e.try_into()
                .map_err(|err: toml::de::Error| Error::ConfigInvalid {
                    message: format!(
                        "[[{name}]] #{} in {}: {}",
                        i + 1,
                        path.display(),
                        err.message()
                    ),
                })
        })
        .collect()
}

fn find_config_file(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    let explicit = explicit
        .map(Path::to_path_buf)
        .or_else(|| env::var(env::FINOPS_CONFIG).map(PathBuf::from));
    if let Some(path) = explicit {
        if !path.is_file() {
            return Err(Error::ConfigRead {
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                path,
            });
        }
        return Ok(Some(path));
    }
    let local = PathBuf::from("finops.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    let xdg = env::var(env::XDG_CONFIG_HOME)
        .map(PathBuf::from)
        .or_else(|| env::var(env::HOME).map(|h| Path::new(&h).join(".config")));
    Ok(xdg
        .map(|d| d.join("finops").join("finops.toml"))
        .filter(|p| p.is_file()))
}

fn parse_kind(spec: &KeySpec, raw: &str) -> std::result::Result<Value, String> {
    match spec.kind {
        Kind::Str | Kind::Secret => Ok(Value::from(raw.to_owned())),
        Kind::Int => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{raw}` is not a whole number")),
        Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Value::from(true)),
            "0" | "false" | "no" | "off" => Ok(Value::from(false)),
            _ => Err(format!("`{raw}` is not true or false")),
        },
    }
}

fn toml_to_figment(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::from(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::from(b),
        toml::Value::Datetime(d) => Value::from(d.to_string()),
        toml::Value::Array(a) => {
            Value::from(a.into_iter().map(toml_to_figment).collect::<Vec<_>>())
        }
        toml::Value::Table(t) => Value::from(
            t.into_iter()
                .map(|(k, v)| (k, toml_to_figment(v)))
                .collect::<Dict>(),
        ),
    }
}

fn display_value(v: &Value) -> String {
    match v {
        Value::String(_, s) => s.clone(),
        Value::Char(_, c) => c.to_string(),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => n.to_i128().map_or_else(
            || n.to_f64().map_or_else(String::new, |f| f.to_string()),
            |i| i.to_string(),
        ),
        Value::Empty(..) => String::new(),
        Value::Dict(..) | Value::Array(..) => serde_json::to_string(v).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEST_KEYS: &[KeySpec] = &[
        KeySpec {
            key: "demo.bucket",
            kind: Kind::Str,
            default: None,
            flag: Some("--bucket"),
            value_name: Some("BUCKET"),
            alias: None,
            doc: "",
        },
        KeySpec {
            key: "demo.secret",
            kind: Kind::Secret,
            default: None,
            flag: None,
            value_name: None,
            alias: None,
            doc: "",
        },
    ];

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Demo {
        bucket: Option<String>,
        secret: Option<crate::Redacted<String>>,
    }

    fn specs() -> Vec<&'static KeySpec> {
        CORE_KEYS.iter().chain(TEST_KEYS).collect()
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("finops.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn precedence_default_file_env_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "[warehouse]\npath = \"file.duckdb\"\nthreads = 3\n[demo]\nbucket = \"from-file\"\nsecret = \"s3cr3t\"\n",
        );

        let s = Settings::load_with_env(Some(&path), specs(), &[], Vec::new()).unwrap();
        let w: WarehouseConfig = s.section("warehouse").unwrap();
        assert_eq!(w.path, PathBuf::from("file.duckdb"));
        assert_eq!(w.threads, Some(3));
        assert_eq!(w.memory_limit, DEFAULT_MEMORY_LIMIT);
        assert_eq!(s.origin("warehouse.path"), Origin::File(path.clone()));
        assert_eq!(s.origin("warehouse.memory_limit"), Origin::Default);

        let vars = |threads: &str| {
            vec![
                ("FINOPS_DEMO_BUCKET".to_owned(), "from-env".to_owned()),
                ("FINOPS_WAREHOUSE_THREADS".to_owned(), threads.to_owned()),
            ]
        };
        let mut s = Settings::load_with_env(Some(&path), specs(), &[], vars("7")).unwrap();
        let d: Demo = s.section("demo").unwrap();
        assert_eq!(d.bucket.as_deref(), Some("from-env"));
        assert_eq!(d.secret.as_ref().unwrap().expose(), "s3cr3t");
        assert_eq!(
            s.origin("demo.bucket"),
            Origin::Env("FINOPS_DEMO_BUCKET".into())
        );
        assert_eq!(
            s.section::<WarehouseConfig>("warehouse").unwrap().threads,
            Some(7)
        );

        s.apply_flags([("demo.bucket", FlagValue::Str("from-flag".into()))]);
        let d: Demo = s.section("demo").unwrap();
        assert_eq!(d.bucket.as_deref(), Some("from-flag"));
        assert_eq!(s.origin("demo.bucket"), Origin::Flag("--bucket".into()));

        let shown = s.show();
        let secret = shown.iter().find(|k| k.key == "demo.secret").unwrap();
        assert_eq!(secret.value.as_deref(), Some(MASK));
        assert!(!format!("{shown:?}").contains("s3cr3t"));

        let err = Settings::load_with_env(Some(&path), specs(), &[], vars("many"))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("FINOPS_WAREHOUSE_THREADS"),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_names_the_closest() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "[demo]\nbukcet = \"x\"\n");
        let err = Settings::load_with_env(Some(&path), specs(), &[], Vec::new())
            .err()
            .unwrap();
        match err {
            Error::UnknownConfigKey {
                key, suggestion, ..
            } => {
                assert_eq!(key, "demo.bukcet");
                assert_eq!(suggestion.as_deref(), Some("demo.bucket"));
            }
            other => panic!("{other:?}"),
        }
        let path = write(dir.path(), "[nope]\nx = 1\n");
        assert!(matches!(
            Settings::load_with_env(Some(&path), specs(), &[], Vec::new()),
            Err(Error::UnknownConfigKey {
                unknown_section: true,
                ..
            })
        ));
        // A plugin's section while the plugin is not found: no other section's key suggested,
        // and the help says where plugins are found.
        let path = write(dir.path(), "[demo-plugin]\nbucket = 1\n");
        let err = Settings::load_with_env(Some(&path), specs(), &[], Vec::new())
            .err()
            .unwrap();
        let help = miette::Diagnostic::help(&err).unwrap().to_string();
        assert!(help.contains("finops-plugin-demo-plugin on PATH"), "{help}");
        assert!(!help.contains("did you mean"), "{help}");
        let path = write(dir.path(), "[azure]\nanything = 1\n");
        Settings::load_with_env(Some(&path), specs(), &["azure"], Vec::new()).unwrap();
    }

    #[test]
    fn syntax_and_type_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "[warehouse\npath = 1\n");
        assert!(matches!(
            Settings::load_with_env(Some(&path), specs(), &[], Vec::new()),
            Err(Error::ConfigSyntax { .. })
        ));
        let path = write(dir.path(), "[warehouse]\nthreads = \"four\"\n");
        let s = Settings::load_with_env(Some(&path), specs(), &[], Vec::new()).unwrap();
        let err = s
            .section::<WarehouseConfig>("warehouse")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("threads") && err.contains("finops.toml"),
            "{err}"
        );
        let missing = dir.path().join("nope.toml");
        assert!(matches!(
            Settings::load_with_env(Some(&missing), specs(), &[], Vec::new()),
            Err(Error::ConfigRead { .. })
        ));
    }

    #[test]
    fn core_defaults_match_specs() {
        let w = WarehouseConfig::default();
        assert_eq!(w.path.to_str(), CORE_KEYS[0].default);
        assert_eq!(Some(w.memory_limit.as_str()), CORE_KEYS[1].default);
        assert_eq!(CORE_KEYS[0].env_name(), "FINOPS_WAREHOUSE_PATH");
    }
}
