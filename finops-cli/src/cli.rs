//! The clap definition of the `finops` command line.

// Doc comments on arguments are the user's `--help` text, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Turn cloud billing exports into a FOCUS dataset in a local DuckDB file.
#[derive(Debug, Parser)]
#[command(name = "finops", about, long_about = None, max_term_width = 100)]
#[command(
    after_help = "Configuration: finops.toml < FINOPS_* environment < flags; see `finops config show`."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Config file (default: ./finops.toml, then $XDG_CONFIG_HOME/finops/finops.toml) [env: FINOPS_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The DuckDB warehouse file [config: warehouse.path; default: finops.duckdb]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) warehouse: Option<PathBuf>,
    /// Wait this many seconds for another process's lock on the warehouse [config: warehouse.wait_lock]
    #[arg(long, global = true, value_name = "SECONDS")]
    pub(crate) wait_lock: Option<u32>,
    /// Format of what the command produces: table or json for results [config: output.format];
    /// parquet or csv for the files of `focus export`; csv or html for `report`
    #[arg(long, global = true, value_name = "FORMAT", value_parser = ["table", "json", "parquet", "csv", "html"])]
    pub(crate) format: Option<String>,
    /// Print only errors on stderr (no progress, no step log)
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// More log detail on stderr (-vv for trace) [env: FINOPS_LOG]
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// The commands that are not a vendor's (each vendor's are added at run time from the
/// registry: `finops <vendor> import|list-exports|show-state|…`).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// FOCUS: check and export the unified cost dataset (focus.cost_and_usage)
    #[command(subcommand)]
    Focus(FocusCommand),
    /// Reports over focus.cost_and_usage: costs by dimension and period, daily anomalies
    #[command(subcommand)]
    Report(finops_report::ReportCommand),
    /// Allocation rules of finops.toml ([[dimensions]], [[allocations]]): write
    /// focus.allocated_cost for the periods whose rules or imports changed (imports do it too)
    Allocate(finops_report::allocate::AllocateArgs),
    /// Budgets of finops.toml ([[budgets]]): actual and forecast cost against each
    #[command(subcommand)]
    Budgets(finops_report::BudgetsCommand),
    /// FOCUS as a Delta Lake table on object storage (s3://, az://, gs://, file://) for Spark,
    /// Athena, ClickHouse, DuckDB…: sync, status, vacuum
    #[cfg(feature = "lake")]
    #[command(subcommand)]
    Lake(finops_lake::LakeCommand),
    /// FOCUS as a Delta Lake table (not in this build: cargo install finops-cli --features lake)
    #[cfg(not(feature = "lake"))]
    Lake {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Source plugins: programs named finops-plugin-<name> on PATH or [[plugins]] in
    /// finops.toml, each run as `finops <name> import|list-exports|show-state`
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Print a shell completion script: `finops completions bash > /etc/bash_completion.d/finops`
    #[command(
        after_help = "Examples:\n  finops completions bash > ~/.local/share/bash-completion/completions/finops\n  finops completions zsh > \"${fpath[1]}/_finops\"\n  finops completions fish > ~/.config/fish/completions/finops.fish\n  finops completions powershell >> $PROFILE"
    )]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `finops man > /usr/local/share/man/man1/finops.1`
    Man,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FocusCommand {
    /// Check focus.cost_and_usage against the FOCUS specification; exit 1 when a rule fails
    Validate {
        /// FOCUS version to check against: 1.2 or 1.3 [config: focus.version; default 1.3]
        #[arg(long = "version", value_name = "VERSION")]
        focus_version: Option<finops_core::focus::Version>,
        /// Also list the rules that pass
        #[arg(long)]
        all: bool,
    },
    /// Write FOCUS rows to files, one per billing period: DIR/focus-<version>-<YYYY-MM>.<ext>
    /// (--format parquet, the default, or --format csv); or, with --layout hive, one Parquet
    /// object per source and period for readers without Delta support
    #[command(
        after_help = "--layout hive writes DIR_OR_URL/x_source=<source>/x_billing_period=<YYYY-MM-01>/part-0.parquet \
                      (s3://, az://, gs://, file:// or a directory; in builds with the lake feature), each \
                      replaced by one upload, with the warehouse's exact decimals and UTC timestamps. A query \
                      running during a replace can fail or mix a period's old and new rows; `finops lake sync` \
                      (Delta) has no such window."
    )]
    Export {
        /// Output directory, or with --layout hive a URL (created if missing)
        #[arg(long, visible_alias = "to", value_name = "DIR_OR_URL")]
        out: std::path::PathBuf,
        /// files: one file per period with the FOCUS version's columns; hive: one Parquet object
        /// per (source, period) under x_source=/x_billing_period= folders
        #[arg(long, value_name = "LAYOUT", default_value = "files", value_parser = ["files", "hive"])]
        layout: String,
        /// Only this billing period, YYYY-MM
        #[arg(long, value_name = "YYYY-MM")]
        period: Option<finops_core::Period>,
        /// FOCUS version of the columns: 1.2 or 1.3 [config: focus.version; default 1.3]
        #[arg(long = "version", value_name = "VERSION")]
        focus_version: Option<finops_core::focus::Version>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print every setting with its value and where it came from (secrets masked)
    Show,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PluginsCommand {
    /// Every plugin found: where, its version and protocol, and whether it answered
    List,
    /// Run a plugin's handshake (describe) and listing (list) and explain any problem
    Check {
        /// The plugin's name
        name: String,
    },
}
