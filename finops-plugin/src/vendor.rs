//! A plugin as core sees it: a [`Vendor`] whose exports come from its `list` call and whose
//! files come from its `fetch` call, checked before core reads them. Everything after
//! that (state, the period's transactional replace, FOCUS, events) is core's, as for a
//! built-in vendor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use finops_core::config::{KeySpec, Kind, Settings};
use finops_core::naming::TableRef;
use finops_core::output::Ui;
use finops_core::read::{self, ColumnType, FileKind, ReadColumn};
use finops_core::state::ExportKey;
use finops_core::vendor::{BoxFuture, Delivery, DeliveryStatus, Export, Staged, Vendor};
use finops_core::{Context, Period};

use crate::discover::Plugin;
use finops_core::focus::mapping::{FocusSql, Mapping};

use crate::protocol::{self, DataKind, Describe, FileFormat, MappingFile, PROTOCOL, Request};
use crate::runner::{call, error};

/// A plugin that answered `describe`.
pub struct PluginVendor {
    /// Where it was found.
    pub plugin: Plugin,
    /// What it said it is.
    pub describe: Describe,
    name: &'static str,
    about: &'static str,
    help: &'static str,
    keys: &'static [KeySpec],
    export_key: &'static str,
}

/// Leaks `s`: a plugin's names live as long as the process, as a built-in vendor's do.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Asks `plugin` who it is (`describe`).
pub fn describe(plugin: &Plugin) -> finops_core::Result<Describe> {
    let d: Describe = call(
        plugin,
        "describe",
        &Request::Describe { protocol: PROTOCOL },
        &crate::runner::working_dir(),
        &[],
    )?;
    if d.name != plugin.name {
        return Err(error(
            plugin,
            "describe",
            format!(
                "it calls itself `{}`, but was found as `{}`",
                d.name, plugin.name
            ),
            "a plugin's `describe` gives the name it is installed under (finops-plugin-<name>, or `name` of its [[plugins]] entry)",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for k in &d.keys {
        let ok = k
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !k.name.is_empty();
        if !ok || k.name == "export" || !seen.insert(k.name.clone()) {
            return Err(error(
                plugin,
                "describe",
                format!(
                    "config key `{}` is not a usable key name (lowercase, digits, `_`; unique; not `export`)",
                    k.name
                ),
                "fix the plugin's `describe` reply",
            ));
        }
    }
    match (d.format.data, &d.format.mapping) {
        (DataKind::Raw, None) => {
            return Err(error(
                plugin,
                "describe",
                "its format is raw but it gives no mapping".into(),
                "a raw plugin ships its FOCUS mapping: \"mapping\": {\"name\": \"x.sql\", \"sql\": \"…\"} (docs/plugins.md)",
            ));
        }
        (DataKind::Focus, Some(_)) => {
            return Err(error(
                plugin,
                "describe",
                "its format is focus but it gives a mapping".into(),
                "a mapping is for \"data\": \"raw\"; FOCUS files are upgraded by finops",
            ));
        }
        (DataKind::Raw, Some(m)) => {
            let mapping = leak_mapping(m);
            let why = mapping.check().err().or_else(|| {
                (!mapping.lookups().is_empty()).then(|| {
                    "it declares lookups, which a plugin's mapping cannot have yet (join a VALUES list instead)".to_owned()
                })
            });
            if let Some(why) = why {
                return Err(error(
                    plugin,
                    "describe",
                    format!("its mapping {}: {why}", m.name),
                    "a mapping declares `-- inputs:` (one `--   name  TYPE` per line) and ends in the SELECT over finops_period (docs/plugins.md)",
                ));
            }
        }
        (DataKind::Focus, None) => {}
    }
    Ok(d)
}

/// A plugin's mapping as core takes it (its text leaked: it lives for the process).
fn leak_mapping(m: &MappingFile) -> Mapping {
    Mapping {
        name: leak(m.name.clone()),
        sql: leak(m.sql.clone()),
    }
}

impl PluginVendor {
    /// The vendor of `plugin`, which answered `describe` with `describe`. Its names are
    /// leaked: it lives for the process.
    pub fn new(plugin: Plugin, describe: Describe) -> &'static Self {
        let name = leak(plugin.name.clone());
        let mut keys: Vec<KeySpec> = describe
            .keys
            .iter()
            .map(|k| KeySpec {
                key: leak(format!("{name}.{}", k.name)),
                kind: if k.secret { Kind::Secret } else { Kind::Str },
                default: None,
                flag: (k.flag && !k.secret)
                    .then(|| leak(format!("--{}", k.name.replace('_', "-")))),
                value_name: (k.flag && !k.secret).then(|| leak(k.name.to_ascii_uppercase())),
                alias: None,
                doc: leak(k.doc.clone()),
            })
            .collect();
        let export_key = leak(format!("{name}.export"));
        keys.push(KeySpec {
            key: export_key,
            kind: Kind::Str,
            default: None,
            flag: None,
            value_name: None,
            alias: None,
            doc: "only this export",
        });
        let about = leak(format!(
            "{} [plugin {} {}]",
            describe
                .description
                .clone()
                .unwrap_or_else(|| format!("Source plugin {name}")),
            name,
            describe.version
        ));
        let help = leak(format!(
            "Import what the source plugin `{name}` ({}) delivers.\n\nThe plugin lists its exports and their billing periods; finops fetches a period whose version changed into a staging folder, checks every file against the plugin's reply (inside the folder, size, SHA-256), and replaces the period in one transaction, as for a built-in vendor. Its raw rows are in `{name}`.<export>, its FOCUS rows in focus.cost_and_usage with x_source `{name}/<export>`.",
            plugin.origin
        ));
        Box::leak(Box::new(Self {
            plugin,
            describe,
            name,
            about,
            help,
            keys: Box::leak(keys.into_boxed_slice()),
            export_key,
        }))
    }

    /// Its config section as the plugin receives it (without `export`), and the values of its
    /// secret keys (to mask).
    fn section(
        &self,
        settings: &Settings,
    ) -> finops_core::Result<(serde_json::Map<String, serde_json::Value>, Vec<String>)> {
        let mut section: serde_json::Map<String, serde_json::Value> =
            settings.section(self.name)?;
        section.remove("export");
        let secrets = self
            .describe
            .keys
            .iter()
            .filter(|k| k.secret)
            .filter_map(|k| section.get(&k.name)?.as_str().map(str::to_owned))
            .collect();
        Ok((section, secrets))
    }
}

impl Vendor for PluginVendor {
    fn name(&self) -> &'static str {
        self.name
    }

    fn about(&self) -> &'static str {
        self.about
    }

    fn display_name(&self) -> &'static str {
        self.name
    }

    fn import_help(&self) -> &'static str {
        self.help
    }

    fn keys(&self) -> &'static [KeySpec] {
        self.keys
    }

    fn export_key(&self) -> &'static str {
        self.export_key
    }

    fn check_config(&self, settings: &Settings) -> finops_core::Result<()> {
        self.section(settings).map(drop)
    }

    fn exports<'a>(
        &'a self,
        ctx: &'a Context,
    ) -> BoxFuture<'a, miette::Result<Vec<Box<dyn Export>>>> {
        Box::pin(async move {
            let (config, secrets) = self.section(&ctx.settings)?;
            let only = ctx.settings.get_str(self.export_key);
            let plugin = self.plugin.clone();
            let request = Request::List {
                protocol: PROTOCOL,
                config: config.clone(),
            };
            let list_secrets = secrets.clone();
            let list: protocol::List = tokio::task::spawn_blocking(move || {
                call(
                    &plugin,
                    "list",
                    &request,
                    &crate::runner::working_dir(),
                    &list_secrets,
                )
            })
            .await
            .map_err(|e| miette::miette!("plugin call: {e}"))??;
            protocol::index(&list).map_err(|m| {
                error(
                    &self.plugin,
                    "list",
                    m,
                    "each (export, period) appears once in a `list` reply",
                )
            })?;
            let mut out: Vec<Box<dyn Export>> = Vec::new();
            for e in list.exports {
                if only.as_deref().is_some_and(|o| o != e.name) {
                    continue;
                }
                finops_core::naming::validate_export_name(&e.name)?;
                let mut periods = BTreeMap::new();
                for p in e.periods {
                    let period = Period::from_yyyymmdd(&format!("{}01", p.period.replace('-', "")))
                        .filter(|_| p.period.len() == 7)
                        .ok_or_else(|| {
                            error(
                                &self.plugin,
                                "list",
                                format!(
                                    "export `{}` lists period `{}`, not YYYY-MM",
                                    e.name, p.period
                                ),
                                "periods are written YYYY-MM",
                            )
                        })?;
                    if p.version.trim().is_empty() || p.files.is_empty() {
                        return Err(error(
                            &self.plugin,
                            "list",
                            format!(
                                "period {} of export `{}` has no version or no files",
                                p.period, e.name
                            ),
                            "every period has a non-empty version and at least one file",
                        )
                        .into());
                    }
                    let mut names = std::collections::BTreeSet::new();
                    if let Some(twice) = p.files.iter().find(|f| !names.insert(&f.name)) {
                        return Err(error(
                            &self.plugin,
                            "list",
                            format!(
                                "period {} of export `{}` lists the file `{}` twice",
                                p.period, e.name, twice.name
                            ),
                            "each file of a period appears once in a `list` reply: a file read twice would count its rows twice",
                        )
                        .into());
                    }
                    periods.insert(period, p);
                }
                out.push(Box::new(PluginExport {
                    key: ExportKey {
                        vendor: self.name.to_owned(),
                        export: e.name.clone(),
                        kind: e.kind.clone(),
                    },
                    plugin: self.plugin.clone(),
                    files: self.describe.format.files,
                    mapping: self.describe.format.mapping.as_ref().map(leak_mapping),
                    cost_column: self.describe.format.cost_column.clone(),
                    config: config.clone(),
                    secrets: secrets.clone(),
                    periods,
                }));
            }
            if out.is_empty() {
                return Err(finops_core::Error::NoExports {
                    what: "exports",
                    location: format!("plugin {}", self.name),
                    found: Vec::new(),
                    help: match only {
                        Some(o) => format!("the plugin lists no export `{o}`; `finops {} list-exports` shows what it lists", self.name),
                        None => "the plugin lists no export: check its config section".to_owned(),
                    },
                }
                .into());
            }
            Ok(out)
        })
    }
}

/// One export of a plugin.
struct PluginExport {
    key: ExportKey,
    plugin: Plugin,
    files: FileFormat,
    /// For raw data: its mapping.
    mapping: Option<Mapping>,
    /// For raw data: the column summed as a period's cost.
    cost_column: Option<String>,
    config: serde_json::Map<String, serde_json::Value>,
    secrets: Vec<String>,
    periods: BTreeMap<Period, protocol::ListedPeriod>,
}

impl Export for PluginExport {
    fn key(&self) -> &ExportKey {
        &self.key
    }

    fn table(&self) -> TableRef {
        TableRef::new(
            self.plugin.name.replace('-', "_"),
            self.key.export.replace(['-', '.'], "_"),
        )
    }

    fn cost_expression(&self) -> Option<String> {
        match (&self.mapping, &self.cost_column) {
            (None, _) => Some("sum(\"BilledCost\")".to_owned()),
            (Some(_), Some(c)) => Some(format!("sum({})", finops_core::naming::quote_ident(c))),
            (Some(_), None) => None,
        }
    }

    fn deliveries(&self) -> BoxFuture<'_, miette::Result<Vec<Delivery>>> {
        let out = self
            .periods
            .iter()
            .map(|(period, p)| {
                Delivery::of_files(
                    *period,
                    p.version.clone(),
                    p.files.iter().map(|f| (f.name.clone(), f.size)),
                    DeliveryStatus::Ready,
                )
            })
            .collect();
        Box::pin(async move { Ok(out) })
    }

    fn stage<'a>(
        &'a self,
        d: &'a Delivery,
        dir: &'a Path,
        ui: &'a Ui,
    ) -> BoxFuture<'a, miette::Result<Staged>> {
        Box::pin(async move {
            let _ = ui;
            let listed = &self.periods[&d.period];
            let plugin = self.plugin.clone();
            let what = format!("fetch {} {}", self.key.export, d.period);
            let request = Request::Fetch {
                protocol: PROTOCOL,
                config: self.config.clone(),
                export: self.key.export.clone(),
                period: listed.period.clone(),
                version: listed.version.clone(),
                files: listed.files.clone(),
                dir: dir.display().to_string(),
            };
            let secrets = self.secrets.clone();
            let cwd = crate::runner::working_dir();
            let call_name = what.clone();
            let fetched: protocol::Fetch = tokio::task::spawn_blocking(move || {
                call(&plugin, &call_name, &request, &cwd, &secrets)
            })
            .await
            .map_err(|e| miette::miette!("plugin call: {e}"))??;
            let files = check_files(&self.plugin, &what, dir, &fetched)?;
            let bytes = fetched.files.iter().map(|f| f.size).sum();
            let raw = match (self.files, &self.mapping) {
                (FileFormat::Parquet, m) => {
                    read::parquet_select(&files, &read::describe_parquet(&files)?, m.is_some())
                }
                (FileFormat::Csv, None) => {
                    let (headers, from) = read::csv_union_relation(&files)?;
                    let columns: Vec<ReadColumn> = headers
                        .iter()
                        .map(|h| ReadColumn {
                            target: match read::focus_column_type(h) {
                                ColumnType::Timestamp => ColumnType::LooseTimestamp,
                                t => t,
                            },
                            delivered: h.clone(),
                            delivered_type: "VARCHAR".into(),
                            name: h.trim().to_owned(),
                        })
                        .collect();
                    read::select_columns(&from, FileKind::Csv, &columns)
                }
                (FileFormat::Csv, Some(mapping)) => {
                    // Raw columns snake-cased, typed as the mapping declares its inputs (money
                    // exact, timestamps loose), the rest text.
                    let (headers, from) = read::csv_union_relation(&files)?;
                    let names =
                        finops_core::naming::snake_case_all(headers.iter().map(String::as_str));
                    let inputs = mapping.inputs();
                    let columns: Vec<ReadColumn> = headers
                        .iter()
                        .zip(names)
                        .map(|(h, name)| {
                            let ty = inputs
                                .iter()
                                .find(|i| i.name == name)
                                .map(|i| i.ty.to_ascii_uppercase())
                                .unwrap_or_default();
                            ReadColumn {
                                target: if ty.starts_with("DECIMAL") {
                                    ColumnType::Decimal
                                } else if ty.starts_with("TIMESTAMP") || ty == "DATE" {
                                    ColumnType::LooseTimestamp
                                } else {
                                    ColumnType::Text
                                },
                                delivered: h.clone(),
                                delivered_type: "VARCHAR".into(),
                                name,
                            }
                        })
                        .collect();
                    read::select_columns(&from, FileKind::Csv, &columns)
                }
            };
            let described = read::visible_columns(&raw.sql)?;
            let names: Vec<&str> = described.iter().map(|(n, _)| n.as_str()).collect();
            let focus = if let Some(mapping) = self.mapping {
                let inputs = mapping.inputs();
                if !inputs.iter().any(|i| names.contains(&i.name.as_str())) {
                    return Err(error(
                        &self.plugin,
                        &what,
                        format!(
                            "its files hold none of the inputs of its mapping {} ({}…); they have {}",
                            mapping.name,
                            inputs.iter().take(3).map(|i| i.name.as_str()).collect::<Vec<_>>().join(", "),
                            finops_core::error::found_list(&names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                        ),
                        "a raw plugin's columns, snake-cased, are its mapping's inputs; nothing of this period was loaded",
                    )
                    .into());
                }
                FocusSql::mapping(mapping)
            } else {
                let missing: Vec<&str> = ["BilledCost", "ChargePeriodStart", "BillingCurrency"]
                    .into_iter()
                    .filter(|c| !names.iter().any(|n| n.eq_ignore_ascii_case(c)))
                    .collect();
                if !missing.is_empty() {
                    return Err(error(
                        &self.plugin,
                        &what,
                        format!(
                            "its files are not FOCUS, as its `describe` says: no {} column",
                            missing.join(", ")
                        ),
                        "a plugin of format focus delivers FOCUS columns (1.0 to 1.3); nothing of this period was loaded",
                    )
                    .into());
                }
                FocusSql::select(finops_core::focus::upgrade::upgrade_select(&described, &[]))
            };
            Ok(Staged::of_raw(raw, Some(focus), bytes, files))
        })
    }
}

/// The files a `fetch` reply names, each a regular file inside `dir` (no `..`, no absolute
/// path, no symbolic link) with the size and SHA-256 the reply gives.
fn check_files(
    plugin: &Plugin,
    call: &str,
    dir: &Path,
    reply: &protocol::Fetch,
) -> finops_core::Result<Vec<PathBuf>> {
    let refuse = |m: String| {
        error(
            plugin,
            call,
            m,
            "a plugin writes its files inside the staging folder it is given and reports each one's size and SHA-256 exactly; nothing of this period was loaded",
        )
    };
    if reply.files.is_empty() {
        return Err(refuse("its reply names no file".into()));
    }
    let root = dir
        .canonicalize()
        .map_err(finops_core::Error::io("reading", dir))?;
    let mut out = Vec::new();
    for f in &reply.files {
        let rel = Path::new(&f.path);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(refuse(format!(
                "`{}` is not a path inside the staging folder",
                f.path
            )));
        }
        let path = root.join(rel);
        // The same file twice would load its rows twice.
        if out.contains(&path) {
            return Err(refuse(format!("`{}` is named twice in its reply", f.path)));
        }
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|_| refuse(format!("`{}` is not in the staging folder", f.path)))?;
        if meta.file_type().is_symlink() || !meta.is_file() {
            return Err(refuse(format!(
                "`{}` is a symbolic link or not a regular file",
                f.path
            )));
        }
        let resolved = path
            .canonicalize()
            .map_err(finops_core::Error::io("reading", &path))?;
        if !resolved.starts_with(&root) {
            return Err(refuse(format!(
                "`{}` resolves outside the staging folder",
                f.path
            )));
        }
        if meta.len() != f.size {
            return Err(refuse(format!(
                "`{}` has {} bytes; the reply says {}",
                f.path,
                meta.len(),
                f.size
            )));
        }
        let sha = sha256_file(&path)?;
        if !sha.eq_ignore_ascii_case(&f.sha256) {
            return Err(refuse(format!(
                "the SHA-256 of `{}` is {sha}; the reply says {}",
                f.path, f.sha256
            )));
        }
        // A compressed file must be whole: a truncated one would load as a short month.
        if f.path.to_ascii_lowercase().ends_with(".gz") {
            read::verify_gzip(&path, &f.path)?;
        }
        finops_core::fault::point("download");
        out.push(path);
    }
    Ok(out)
}

/// The SHA-256 of a file, lowercase hex.
fn sha256_file(path: &Path) -> finops_core::Result<String> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path).map_err(finops_core::Error::io("reading", path))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(finops_core::Error::io("reading", path))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    let mut hex = String::with_capacity(64);
    for b in ctx.finish().as_ref() {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
    }
    Ok(hex)
}
