//! The `finops` binary: parses the command line, resolves configuration, and hands the
//! command to core or to a vendor crate. Vendors are compiled in by cargo features.

mod cli;
mod commands;
mod registry;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use finops_core::Context;
use finops_core::config::{FlagValue, OutputConfig, Settings};
use finops_core::events::Hooks;
use finops_core::output::{self, ExitStatus, Table, Ui};
use serde_json::json;

use crate::cli::{Cli, Command, ConfigCommand, FocusCommand};

fn main() -> ExitCode {
    let version: &'static str = Box::leak(registry::version().into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    install_miette_hook();
    output::init_logging(cli.global.quiet, cli.global.verbose);
    let path = command_path(&matches);
    match run(cli, &path) {
        Ok(status) => status.into(),
        Err(report) => {
            let status = report
                .downcast_ref::<finops_core::Error>()
                .map_or(ExitStatus::Failure, finops_core::Error::exit_status);
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{report:?}");
            }
            status.into()
        }
    }
}

/// Graphical reports on a terminal, narratable plain text otherwise (cron logs).
fn install_miette_hook() {
    let tty = std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| {
        if tty {
            Box::new(
                miette::MietteHandlerOpts::new()
                    .terminal_links(false)
                    .build(),
            )
        } else {
            Box::new(miette::NarratableReportHandler::new())
        }
    }));
}

#[cfg_attr(
    not(any(feature = "aws", feature = "azure")),
    allow(clippy::needless_pass_by_value, unused_variables)
)]
fn run(cli: Cli, command_path: &[&str]) -> miette::Result<ExitStatus> {
    // Generated from the clap definition; they read no configuration.
    match &cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            let mut cmd = Cli::command().version(&*Box::leak(registry::version().into_boxed_str()));
            clap_complete::generate(*shell, &mut cmd, "finops", &mut out);
            output::print_raw(&out);
            return Ok(ExitStatus::Success);
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(
                Cli::command().version(&*Box::leak(registry::version().into_boxed_str())),
            )
            .render(&mut out)
            .map_err(|e| miette::miette!("cannot render the man page: {e}"))?;
            output::print_raw(&out);
            return Ok(ExitStatus::Success);
        }
        _ => {}
    }
    // A vendor that is not in this build fails before anything else is read.
    match &cli.command {
        #[cfg(not(feature = "aws"))]
        Command::Aws(_) => return Err(registry::unavailable("aws").into()),
        #[cfg(not(feature = "azure"))]
        Command::Azure(_) => return Err(registry::unavailable("azure").into()),
        Command::Gcp(_) => return Err(registry::unavailable("gcp").into()),
        Command::Oracle(_) => return Err(registry::unavailable("oracle").into()),
        _ => {}
    }
    let mut settings = Settings::load(
        cli.global.config.as_deref(),
        registry::config_keys(),
        &registry::foreign_sections(),
    )?;
    let mut flags = Vec::new();
    if let Some(w) = &cli.global.warehouse {
        flags.push(("warehouse.path", FlagValue::Str(w.display().to_string())));
    }
    if let Some(s) = cli.global.wait_lock {
        flags.push(("warehouse.wait_lock", FlagValue::Int(i64::from(s))));
    }
    // Formats that are files rather than results, and the commands that write them.
    let file_formats: &[&str] = match &cli.command {
        Command::Focus(FocusCommand::Export { .. }) => &["parquet", "csv"],
        Command::Report(_) => &["csv", "html"],
        _ => &[],
    };
    let is_export = matches!(cli.command, Command::Focus(FocusCommand::Export { .. }));
    let file_format = match cli.global.format.as_deref() {
        Some(f) if file_formats.contains(&f) => Some(f.to_owned()),
        Some(f @ ("parquet" | "csv" | "html")) => {
            return Err(finops_core::Error::InvalidArguments {
                message: format!("--format {f} is not a format of this command"),
                help: "parquet and csv are for `finops focus export`; csv and html for \
                       `finops report`; table and json for the rest"
                    .into(),
            }
            .into());
        }
        Some(f @ ("table" | "json")) if is_export => {
            return Err(finops_core::Error::InvalidArguments {
                message: format!("`finops focus export` writes parquet or csv files, not {f}"),
                help: "finops focus export --format parquet (the default) or --format csv".into(),
            }
            .into());
        }
        Some(f) => {
            flags.push(("output.format", FlagValue::Str(f.to_owned())));
            None
        }
        None => None,
    };
    settings.apply_flags(flags);
    let out: OutputConfig = settings.section("output")?;
    let hooks = Hooks::new(settings.list("hooks")?)?;
    #[cfg_attr(not(any(feature = "aws", feature = "azure")), allow(unused_mut))]
    let mut ctx = Context {
        settings,
        ui: Ui::new(out.format, cli.global.quiet),
        hooks,
    };
    match cli.command {
        #[cfg(feature = "aws")]
        Command::Aws(cmd) => runtime()?
            .block_on(finops_aws::run(cmd, &mut ctx))
            .inspect_err(|e| import_failed(&ctx, command_path, e)),
        #[cfg(feature = "azure")]
        Command::Azure(cmd) => runtime()?
            .block_on(finops_azure::run(cmd, &mut ctx))
            .inspect_err(|e| import_failed(&ctx, command_path, e)),
        Command::Report(cmd) => finops_report::run_report(cmd, &ctx, file_format.as_deref()),
        Command::Budgets(cmd) => finops_report::run_budgets(cmd, &ctx),
        Command::Config(ConfigCommand::Show) => config_show(&ctx),
        Command::Focus(cmd) => commands::focus::run(cmd, &mut ctx, file_format.as_deref()),
        Command::Completions { .. } | Command::Man => unreachable!("handled before the config"),
        #[allow(unreachable_patterns)]
        _ => unreachable!("vendor stubs are handled above"),
    }
}

/// `["aws", "import-cur"]`: the subcommands the user named.
fn command_path(matches: &clap::ArgMatches) -> Vec<&str> {
    let mut path = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        path.push(name);
        m = sub;
    }
    path
}

/// An import command that failed before it had per-export reports (a wrong bucket, refused
/// credentials…) still tells the `import.failed` hooks.
#[cfg(any(feature = "aws", feature = "azure"))]
fn import_failed(ctx: &Context, command_path: &[&str], error: &miette::Report) {
    if !command_path.get(1).is_some_and(|c| c.starts_with("import")) {
        return;
    }
    let _ = ctx.emit(finops_core::events::EventKind::ImportFailed, || {
        json!({
            "vendor": command_path[0],
            "command": command_path.join(" "),
            "error": error.to_string(),
            "code": error.code().map(|c| c.to_string()),
            "help": error.help().map(|h| h.to_string()),
        })
    });
}

/// The async runtime vendor commands run on.
#[cfg(any(feature = "aws", feature = "azure"))]
fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            miette::miette!(
                code = "finops::runtime",
                "cannot start the async runtime: {e}"
            )
        })
}

fn config_show(ctx: &Context) -> miette::Result<ExitStatus> {
    let problems = registry::check_config(&ctx.settings);
    let shown = ctx.settings.show();
    let budgets: Vec<serde_json::Value> = ctx.settings.list("budgets")?;
    let budgets: Vec<&str> = budgets
        .iter()
        .filter_map(|b| b.get("name").and_then(serde_json::Value::as_str))
        .collect();
    let hooks = ctx.hooks.describe();
    if ctx.ui.format == output::Format::Json {
        output::print_json(&json!({
            "file": ctx.settings.file().map(|p| p.display().to_string()),
            "keys": shown,
            "budgets": budgets,
            "hooks": hooks,
            "problems": problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }));
        return Ok(config_status(problems));
    }
    let mut t = Table::new(vec!["key", "value", "source", "env"]);
    for k in shown {
        t.push(vec![
            json!(k.key),
            json!(k.value),
            json!(k.origin),
            json!(k.env),
        ]);
    }
    output::print_text(&format!(
        "config file: {}\n",
        ctx.settings
            .file()
            .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string())
    ));
    output::print_table(output::Format::Table, &t);
    if !budgets.is_empty() {
        output::print_text(&format!("\n[[budgets]]: {}", budgets.join(", ")));
    }
    if !hooks.is_empty() {
        let mut h = Table::new(vec!["hook", "event", "delivers to"]);
        for hook in hooks {
            let target = hook
                .get("command")
                .map(|c| format!("command: {}", c.as_str().unwrap_or_default()))
                .or_else(|| {
                    hook.get("url")
                        .map(|u| format!("POST {}", u.as_str().unwrap_or_default()))
                });
            h.push(vec![
                hook["name"].clone(),
                hook["event"].clone(),
                json!(target),
            ]);
        }
        output::print_text("\n[[hooks]]:");
        output::print_table(output::Format::Table, &h);
    }
    Ok(config_status(problems))
}

/// `config show` fails (exit 2) with every problem the commands would find in the config.
fn config_status(problems: Vec<finops_core::Error>) -> ExitStatus {
    if problems.is_empty() {
        return ExitStatus::Success;
    }
    for p in problems {
        output::print_diagnostic(&miette::Report::new(p));
    }
    ExitStatus::Usage
}
