//! The `finops` binary: parses the command line, resolves configuration, and hands the
//! command to core. Vendors are compiled in by cargo features and listed in the registry;
//! every vendor's commands are core's ([`finops_core::vendor_commands`]), so this crate has
//! one path for all of them.

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

use crate::cli::{Cli, Command, ConfigCommand, FocusCommand, GlobalArgs};

/// The whole command line: core's commands and every vendor's, vendors listed first; any
/// other subcommand may be a plugin's (`allow_external_subcommands`).
fn command() -> clap::Command {
    let version: &'static str = Box::leak(registry::version().into_boxed_str());
    let mut order = registry::VENDORS.len();
    let mut cmd = Cli::command()
        .version(version)
        .allow_external_subcommands(true)
        .mut_subcommands(|sub| {
            order += 1;
            sub.display_order(order)
        });
    for (i, sub) in registry::commands().into_iter().enumerate() {
        cmd = cmd.subcommand(sub.display_order(i));
    }
    cmd
}

/// What to run: one of core's commands, or a vendor's (built in, or a plugin).
enum What {
    Core(Command),
    Vendor(&'static registry::VendorEntry, clap::ArgMatches),
    Plugin(&'static finops_plugin::PluginVendor, clap::ArgMatches),
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    let mut global = match GlobalArgs::from_arg_matches(&matches) {
        Ok(g) => g,
        Err(e) => e.exit(),
    };
    install_miette_hook();
    let what = match matches.subcommand() {
        Some((name, sub)) if registry::find(name).is_some() => Ok(What::Vendor(
            registry::find(name).expect("just found"),
            sub.clone(),
        )),
        Some((name, _))
            if !Cli::command()
                .get_subcommands()
                .any(|c| c.get_name() == name) =>
        {
            // The global flags after a plugin's name are known once its command is.
            plugin_command(&global, name).map(|(what, g)| {
                global = g;
                what
            })
        }
        _ => match Cli::from_arg_matches(&matches) {
            Ok(cli) => Ok(What::Core(cli.command)),
            Err(e) => e.exit(),
        },
    };
    output::init_logging(global.quiet, global.verbose);
    match what.and_then(|what| run(&global, what)) {
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

/// `finops <name> …` for a name that is no command of finops's: a plugin's, found and asked
/// who it is, its command line parsed as a vendor's (with the global flags it holds).
fn plugin_command(global: &GlobalArgs, name: &str) -> miette::Result<(What, GlobalArgs)> {
    let (plugins, _) = registry::plugins(global.config.as_deref())?;
    let known: Vec<String> = command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .chain(plugins.iter().map(|p| p.name.clone()))
        .collect();
    let Some(plugin) = plugins.into_iter().find(|p| p.name == name) else {
        let close = known
            .iter()
            .filter(|k| strsim::levenshtein(k, name) <= 2)
            .min_by_key(|k| strsim::levenshtein(k, name));
        return Err(finops_core::Error::InvalidArguments {
            message: format!("`{name}` is neither a finops command nor a plugin"),
            help: format!(
                "{}`finops --help` lists the commands; `finops plugins list` the plugins found (an executable finops-plugin-{name} on PATH, or a [[plugins]] entry named {name} in finops.toml)",
                close.map(|c| format!("did you mean `{c}`? ")).unwrap_or_default()
            ),
        }
        .into());
    };
    let describe = finops_plugin::describe(&plugin)?;
    let vendor = finops_plugin::PluginVendor::new(plugin, describe);
    let matches = command()
        .subcommand(finops_core::vendor_commands::command(vendor))
        .get_matches();
    let sub = matches
        .subcommand_matches(name)
        .expect("the plugin's subcommand")
        .clone();
    let global = GlobalArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    Ok((What::Plugin(vendor, sub), global))
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

fn run(global: &GlobalArgs, what: What) -> miette::Result<ExitStatus> {
    // Generated from the clap definition; they read no configuration.
    match &what {
        What::Core(Command::Completions { shell }) => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut command(), "finops", &mut out);
            output::print_raw(&out);
            return Ok(ExitStatus::Success);
        }
        What::Core(Command::Man) => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command())
                .render(&mut out)
                .map_err(|e| miette::miette!("cannot render the man page: {e}"))?;
            output::print_raw(&out);
            return Ok(ExitStatus::Success);
        }
        // A vendor that is not in this build fails before anything else is read.
        What::Vendor(v, _) if v.vendor.is_none() => return Err(registry::unavailable(v).into()),
        _ => {}
    }
    let (plugins, plugin_problems) = registry::plugins(global.config.as_deref())?;
    let mut keys = registry::config_keys();
    let mut foreign = registry::foreign_sections();
    let described: Vec<&'static finops_plugin::PluginVendor> = match &what {
        What::Plugin(p, _) => vec![*p],
        // These show every plugin's keys (secrets masked) and check them.
        What::Core(Command::Config(_) | Command::Plugins(_)) => plugins
            .iter()
            .filter_map(|p| {
                let d = finops_plugin::describe(p).ok()?;
                Some(finops_plugin::PluginVendor::new(p.clone(), d))
            })
            .collect(),
        _ => Vec::new(),
    };
    for p in &described {
        keys.extend(finops_core::vendor::Vendor::keys(*p));
    }
    let names: Vec<&'static str> = plugins
        .iter()
        .filter(|p| !described.iter().any(|d| d.plugin.name == p.name))
        .map(|p| &*Box::leak(p.name.clone().into_boxed_str()))
        .collect();
    foreign.extend(names);
    let mut settings = Settings::load(global.config.as_deref(), keys, &foreign)?;
    let mut flags = Vec::new();
    if let Some(w) = &global.warehouse {
        flags.push(("warehouse.path", FlagValue::Str(w.display().to_string())));
    }
    if let Some(s) = global.wait_lock {
        flags.push(("warehouse.wait_lock", FlagValue::Int(i64::from(s))));
    }
    // Formats that are files rather than results, and the commands that write them.
    let file_formats: &[&str] = match &what {
        What::Core(Command::Focus(FocusCommand::Export { .. })) => &["parquet", "csv"],
        What::Core(Command::Report(_)) => &["csv", "html"],
        _ => &[],
    };
    let is_export = matches!(
        what,
        What::Core(Command::Focus(FocusCommand::Export { .. }))
    );
    let file_format = match global.format.as_deref() {
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
    let mut ctx = Context {
        settings,
        ui: Ui::new(out.format, global.quiet),
        hooks,
        held_elsewhere: None,
    };
    if let What::Vendor(_, m) | What::Plugin(_, m) = &what {
        ctx.held_elsewhere = lake_worker(m)?;
    }
    match what {
        What::Vendor(entry, matches) => {
            let vendor = entry.vendor.expect("checked above");
            let rules = rules_before_import(&matches, &ctx)?;
            let status = runtime()?.block_on(finops_core::vendor_commands::run(
                vendor, &matches, &mut ctx,
            ))?;
            let status = allocate_after_import(rules, &ctx, status);
            Ok(lake_after_import(&matches, &ctx, status))
        }
        What::Plugin(vendor, matches) => {
            let rules = rules_before_import(&matches, &ctx)?;
            let status = runtime()?.block_on(finops_core::vendor_commands::run(
                vendor, &matches, &mut ctx,
            ))?;
            let status = allocate_after_import(rules, &ctx, status);
            Ok(lake_after_import(&matches, &ctx, status))
        }
        #[cfg(feature = "lake")]
        What::Core(Command::Lake(cmd)) => finops_lake::run(&ctx, &cmd),
        #[cfg(not(feature = "lake"))]
        What::Core(Command::Lake { .. }) => Err(finops_core::Error::InvalidArguments {
            message: "`finops lake` is not in this build".into(),
            help: "cargo install finops-cli --features lake (or --features all)".into(),
        }
        .into()),
        What::Core(Command::Allocate(args)) => finops_report::allocate::run(&ctx, &args),
        What::Core(Command::Plugins(cmd)) => {
            commands::plugins::run(&cmd, &ctx, &plugins, &plugin_problems, &described)
        }
        What::Core(Command::Report(cmd)) => {
            finops_report::run_report(cmd, &ctx, file_format.as_deref())
        }
        What::Core(Command::Budgets(cmd)) => finops_report::run_budgets(cmd, &ctx),
        What::Core(Command::Config(ConfigCommand::Show)) => {
            config_show(&ctx, &described, plugin_problems)
        }
        What::Core(Command::Focus(cmd)) => {
            commands::focus::run(cmd, &mut ctx, file_format.as_deref())
        }
        What::Core(Command::Completions { .. } | Command::Man) => {
            unreachable!("handled before the config")
        }
    }
}

/// An import (not a dry run) reads the allocation rules before it starts, so that a bad
/// rule fails before anything is loaded; true when the import should allocate after.
fn rules_before_import(matches: &clap::ArgMatches, ctx: &Context) -> miette::Result<bool> {
    let Some(("import", sub)) = matches.subcommand() else {
        return Ok(false);
    };
    if sub.try_get_one::<bool>("dry_run").ok().flatten() == Some(&true) {
        return Ok(false);
    }
    Ok(!finops_report::rules::Rules::load(&ctx.settings)?.is_empty())
}

/// After an import that loaded something (in full or in part), the changed periods are
/// allocated; a failure there leaves the import committed and exits 3.
fn allocate_after_import(rules: bool, ctx: &Context, status: ExitStatus) -> ExitStatus {
    if !rules || !matches!(status, ExitStatus::Success | ExitStatus::Partial) {
        return status;
    }
    match finops_report::allocate::after_import(ctx) {
        Ok(()) => status,
        Err(e) => {
            output::print_diagnostic(&e);
            ExitStatus::Partial
        }
    }
}

/// `import --lake URL` (worker mode): what the lake holds, so that the import skips it.
fn lake_worker(
    matches: &clap::ArgMatches,
) -> miette::Result<Option<finops_core::import::HeldElsewhere>> {
    let Some(("import", sub)) = matches.subcommand() else {
        return Ok(None);
    };
    let Some(url) = sub.try_get_one::<String>("lake").ok().flatten() else {
        return Ok(None);
    };
    #[cfg(feature = "lake")]
    {
        Ok(Some(runtime()?.block_on(finops_lake::held(url))?))
    }
    #[cfg(not(feature = "lake"))]
    {
        Err(finops_core::Error::InvalidArguments {
            message: format!("--lake {url}: this build has no lake"),
            help: "cargo install finops-cli --features lake (or --features all)".into(),
        }
        .into())
    }
}

/// After an import that loaded something, `[lake] url`'s table gets the periods that changed;
/// a failure there leaves the warehouse committed and exits 3.
fn lake_after_import(matches: &clap::ArgMatches, ctx: &Context, status: ExitStatus) -> ExitStatus {
    let importing = matches!(matches.subcommand(), Some(("import", sub))
        if sub.try_get_one::<bool>("dry_run").ok().flatten() != Some(&true));
    if !importing || !matches!(status, ExitStatus::Success | ExitStatus::Partial) {
        return status;
    }
    #[cfg(feature = "lake")]
    if let Err(e) = finops_lake::after_import(ctx) {
        output::print_diagnostic(&e);
        return ExitStatus::Partial;
    }
    #[cfg(not(feature = "lake"))]
    if ctx.settings.get_str("lake.url").is_some() {
        output::print_diagnostic(&miette::miette!(
            code = "finops::lake::not_compiled",
            help = "cargo install finops-cli --features lake (or --features all)",
            "[lake] url is set, but this build has no lake: the import committed to the warehouse only"
        ));
        return ExitStatus::Partial;
    }
    status
}

/// The async runtime vendor commands run on.
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

fn config_show(
    ctx: &Context,
    plugins: &[&'static finops_plugin::PluginVendor],
    plugin_problems: Vec<finops_core::Error>,
) -> miette::Result<ExitStatus> {
    let mut problems = registry::check_config(&ctx.settings);
    problems.extend(plugin_problems);
    for p in plugins {
        if let Err(e) = finops_core::vendor::Vendor::check_config(*p, &ctx.settings) {
            problems.push(e);
        }
    }
    let shown = ctx.settings.show();
    let names = |section: &str| -> miette::Result<Vec<String>> {
        let entries: Vec<serde_json::Value> = ctx.settings.list(section)?;
        Ok(entries
            .iter()
            .filter_map(|b| b.get("name").and_then(serde_json::Value::as_str))
            .map(str::to_owned)
            .collect())
    };
    let budgets = names("budgets")?;
    let dimensions = names("dimensions")?;
    let allocations = names("allocations")?;
    let hooks = ctx.hooks.describe();
    if ctx.ui.format == output::Format::Json {
        output::print_json(&json!({
            "file": ctx.settings.file().map(|p| p.display().to_string()),
            "keys": shown,
            "budgets": budgets,
            "dimensions": dimensions,
            "allocations": allocations,
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
    for (section, list) in [
        ("budgets", &budgets),
        ("dimensions", &dimensions),
        ("allocations", &allocations),
    ] {
        if !list.is_empty() {
            output::print_text(&format!("\n[[{section}]]: {}", list.join(", ")));
        }
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
