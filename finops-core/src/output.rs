//! Output: exit statuses, result tables (table or JSON on stdout), progress and logs (stderr).
//!
//! This is the only module that writes to stdout. Progress bars appear only when stderr is a
//! terminal and `--quiet` is off; otherwise each step is one plain log line, for cron.

#![allow(clippy::print_stdout)]

use std::io::{IsTerminal, Write};
use std::str::FromStr;

pub use indicatif::ProgressBar;
use indicatif::{ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

/// The process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked (including "nothing to do").
    Success = 0,
    /// The command failed.
    Failure = 1,
    /// Usage or configuration error, or a vendor that is not compiled in.
    Usage = 2,
    /// Some billing periods loaded and some failed.
    Partial = 3,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        Self::from(s as u8)
    }
}

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// One JSON document for programs.
    Json,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            _ => Err(format!(
                "`{s}` is not an output format; expected table or json"
            )),
        }
    }
}

impl Format {
    /// The name used in config and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
        }
    }
}

/// How the user asked to be talked to.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// Result format on stdout.
    pub format: Format,
    /// Only errors on stderr.
    pub quiet: bool,
    /// Progress bars allowed (stderr is a terminal and not quiet).
    pub bars: bool,
}

impl Ui {
    /// A UI for `format` and `quiet`, with bars when stderr is a terminal.
    pub fn new(format: Format, quiet: bool) -> Self {
        Self {
            format,
            quiet,
            bars: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// A byte-counting progress bar (hidden unless bars are allowed).
    pub fn bytes_bar(&self, total: u64, message: impl Into<String>) -> ProgressBar {
        if !self.bars {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(message.into());
        bar
    }

    /// A spinner for a step of unknown length (hidden unless bars are allowed).
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        if !self.bars {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.into());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}

/// A result table: printed as aligned columns, or as a JSON array of objects.
#[derive(Debug, Default)]
pub struct Table {
    /// Column names.
    pub headers: Vec<String>,
    /// Rows of cells; JSON values so numbers stay numbers in JSON output.
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new<S: Into<String>>(headers: Vec<S>) -> Self {
        Self {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn push(&mut self, row: Vec<serde_json::Value>) {
        debug_assert_eq!(row.len(), self.headers.len());
        self.rows.push(row);
    }

    /// The rows as JSON objects keyed by header.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    serde_json::Value::Object(
                        self.headers
                            .iter()
                            .cloned()
                            .zip(r.iter().cloned())
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    /// The aligned text of the table.
    pub fn render(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::NOTHING);
        t.set_header(self.headers.clone());
        for r in &self.rows {
            t.add_row(r.iter().map(cell_text).collect::<Vec<_>>());
        }
        for col in t.column_iter_mut() {
            col.set_padding((0, 2));
        }
        t.to_string()
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn cell_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints a table in the chosen format to stdout. A closed pipe is not an error.
pub fn print_table(format: Format, table: &Table) {
    match format {
        Format::Table => print_text(&table.render()),
        Format::Json => print_json(&table.to_json()),
    }
}

/// Prints a JSON document to stdout.
pub fn print_json(value: &serde_json::Value) {
    print_text(&serde_json::to_string_pretty(value).unwrap_or_default());
}

/// Writes bytes to stdout as they are (a completion script, a man page); a closed pipe is
/// not an error.
pub fn print_raw(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Prints text and a newline to stdout, ignoring a closed pipe.
pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Prints a diagnostic (with its code and help) to stderr through the installed miette hook.
pub fn print_diagnostic(report: &miette::Report) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{report:?}");
}

/// Installs the `tracing` subscriber: plain lines on stderr; `FINOPS_LOG` overrides the level.
pub fn init_logging(quiet: bool, verbose: u8) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = crate::env::var(crate::env::FINOPS_LOG).unwrap_or_else(|| {
        // Targets match by prefix: `finops` covers finops_core, finops_cli and every vendor crate.
        // delta-rs logs as errors what finops handles (a table not there yet); -v shows them.
        let delta = if verbose == 0 { "off" } else { "warn" };
        format!(
            "warn,finops={default},deltalake={delta},delta_kernel={delta},buoyant_kernel={delta}"
        )
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_renders_and_serialises() {
        let mut t = Table::new(vec!["period", "rows"]);
        t.push(vec!["2023-11".into(), 699.into()]);
        t.push(vec!["2023-12".into(), serde_json::Value::Null]);
        assert_eq!(t.render(), "period   rows\n2023-11  699\n2023-12  -");
        assert_eq!(t.to_json()[0]["rows"], 699);
        assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
        assert!("yaml".parse::<Format>().is_err());
    }
}
