//! `finops plugins list|check`: the plugins found and whether they answer.

use finops_core::Context;
use finops_core::output::{self, ExitStatus, Format, Table};
use finops_core::vendor::Vendor;
use finops_plugin::{Plugin, PluginVendor};
use serde_json::{Value, json};

use crate::cli::PluginsCommand;

/// Runs `cmd`; `described` are the plugins that answered `describe`.
pub(crate) fn run(
    cmd: &PluginsCommand,
    ctx: &Context,
    plugins: &[Plugin],
    problems: &[finops_core::Error],
    described: &[&'static PluginVendor],
) -> miette::Result<ExitStatus> {
    for p in problems {
        output::print_diagnostic(&miette::Report::msg(p.to_string()));
    }
    match cmd {
        PluginsCommand::List => Ok(list(ctx, plugins, described)),
        PluginsCommand::Check { name } => check(ctx, plugins, described, name),
    }
}

fn list(ctx: &Context, plugins: &[Plugin], described: &[&'static PluginVendor]) -> ExitStatus {
    let rows: Vec<Value> = plugins
        .iter()
        .map(|p| match described.iter().find(|d| d.plugin.name == p.name) {
            Some(d) => json!({
                "name": p.name,
                "found": p.origin,
                "version": d.describe.version,
                "protocol": finops_plugin::protocol::PROTOCOL,
                "status": "ok",
            }),
            None => json!({
                "name": p.name,
                "found": p.origin,
                "version": null,
                "protocol": null,
                "status": finops_plugin::describe(p).err().map_or_else(|| "ok".to_owned(), |e| e.to_string()),
            }),
        })
        .collect();
    if ctx.ui.format == Format::Json {
        output::print_json(&json!({ "plugins": rows }));
        return ExitStatus::Success;
    }
    if rows.is_empty() {
        output::print_text(
            "no plugins found: put an executable named finops-plugin-<name> on PATH, or add a [[plugins]] entry to finops.toml (docs/plugins.md)",
        );
        return ExitStatus::Success;
    }
    let mut t = Table::new(vec!["plugin", "version", "protocol", "found", "status"]);
    for r in rows {
        t.push(vec![
            r["name"].clone(),
            r["version"].clone(),
            r["protocol"].clone(),
            r["found"].clone(),
            r["status"].clone(),
        ]);
    }
    output::print_table(Format::Table, &t);
    ExitStatus::Success
}

fn check(
    ctx: &Context,
    plugins: &[Plugin],
    described: &[&'static PluginVendor],
    name: &str,
) -> miette::Result<ExitStatus> {
    let Some(plugin) = plugins.iter().find(|p| p.name == name) else {
        return Err(finops_core::Error::InvalidArguments {
            message: format!("no plugin `{name}` was found"),
            help: format!("an executable finops-plugin-{name} on PATH, or a [[plugins]] entry named {name} in finops.toml; `finops plugins list` shows what is found"),
        }
        .into());
    };
    let Some(vendor) = described.iter().find(|d| d.plugin.name == name) else {
        // Its describe failed: say how.
        finops_plugin::describe(plugin)?;
        unreachable!("describe failed a moment ago");
    };
    output::print_text(&format!(
        "describe: ok — {} {} (protocol {}), delivers {}, keys: {}",
        vendor.describe.name,
        vendor.describe.version,
        finops_plugin::protocol::PROTOCOL,
        vendor.describe.format,
        if vendor.describe.keys.is_empty() {
            "none".to_owned()
        } else {
            vendor
                .describe
                .keys
                .iter()
                .map(|k| {
                    if k.secret {
                        format!("{} (secret)", k.name)
                    } else {
                        k.name.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    let exports = rt.block_on(vendor.exports(ctx))?;
    output::print_text(&format!("list: ok — {} export(s)", exports.len()));
    for e in &exports {
        let deliveries = rt.block_on(e.deliveries())?;
        let periods: Vec<String> = deliveries.iter().map(|d| d.period.to_string()).collect();
        output::print_text(&format!(
            "  {} ({}): {} period(s){}",
            e.key().export,
            e.key().kind,
            periods.len(),
            match (periods.first(), periods.last()) {
                (Some(a), Some(b)) => format!(", {a} to {b}"),
                _ => String::new(),
            }
        ));
    }
    Ok(ExitStatus::Success)
}
