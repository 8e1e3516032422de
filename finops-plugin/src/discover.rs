//! Where plugins come from: `[[plugins]]` entries of finops.toml, and executables named
//! `finops-plugin-<name>` on `PATH` (an entry wins over a file of the same name).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Prefix of a plugin executable on `PATH`.
pub const PREFIX: &str = "finops-plugin-";

/// A `[[plugins]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginEntry {
    /// The subcommand and config section.
    pub name: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Environment variables it may see (beside `PATH`).
    #[serde(default)]
    pub env: Vec<String>,
    /// Seconds a call may take (default 600).
    #[serde(default)]
    pub timeout: Option<u64>,
}

/// A plugin found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plugin {
    /// Its name.
    pub name: String,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Environment variables it may see (beside `PATH`).
    pub env: Vec<String>,
    /// How long a call may take.
    pub timeout: Duration,
    /// Where it was found: `[[plugins]] in finops.toml`, or the file on `PATH`.
    pub origin: String,
}

/// Whether `name` can name a plugin: lowercase letters, digits and `-`, starting with a
/// letter (it becomes a subcommand, a config section and a schema).
pub fn valid_name(name: &str) -> bool {
    name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The plugins of `entries` and of the directories of `path` (`$PATH`), in that order of
/// precedence, sorted by name; entries that cannot be plugins are returned as problems
/// (`reserved` names are finops's own commands and vendors).
pub fn discover(
    entries: &[PluginEntry],
    path: Option<&std::ffi::OsStr>,
    reserved: &[&str],
) -> (Vec<Plugin>, Vec<finops_core::Error>) {
    let mut out: Vec<Plugin> = Vec::new();
    let mut problems = Vec::new();
    let bad = |name: &str, why: String| finops_core::Error::ConfigInvalid {
        message: format!("[[plugins]] `{name}`: {why}"),
    };
    for e in entries {
        if !valid_name(&e.name) {
            problems.push(bad(
                &e.name,
                "a plugin's name is lowercase letters, digits and `-`, starting with a letter"
                    .into(),
            ));
        } else if reserved.contains(&e.name.as_str()) {
            problems.push(bad(
                &e.name,
                format!(
                    "`{}` is one of finops's own commands or vendors; give the plugin another name",
                    e.name
                ),
            ));
        } else if e.command.is_empty() {
            problems.push(bad(&e.name, "`command` is empty: give the program and its arguments, e.g. [\"python3\", \"plugin.py\"]".into()));
        } else if out.iter().any(|p| p.name == e.name) {
            problems.push(bad(&e.name, "two entries have this name".into()));
        } else {
            out.push(Plugin {
                name: e.name.clone(),
                command: e.command.clone(),
                env: e.env.clone(),
                timeout: e
                    .timeout
                    .map_or(crate::runner::DEFAULT_TIMEOUT, Duration::from_secs),
                origin: "[[plugins]] in the config file".into(),
            });
        }
    }
    for dir in path.map(std::env::split_paths).into_iter().flatten() {
        for (name, file) in executables(&dir) {
            if out.iter().any(|p| p.name == name)
                || !valid_name(&name)
                || reserved.contains(&name.as_str())
            {
                continue;
            }
            out.push(Plugin {
                command: vec![file.display().to_string()],
                origin: file.display().to_string(),
                name,
                env: Vec::new(),
                timeout: crate::runner::DEFAULT_TIMEOUT,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    (out, problems)
}

/// `finops-plugin-*` executables in `dir`: (name, path).
fn executables(dir: &Path) -> Vec<(String, PathBuf)> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = read
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let plugin = name.strip_prefix(PREFIX)?.to_owned();
            let path = e.path();
            let meta = std::fs::metadata(&path).ok()?;
            (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some((plugin, path))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_then_path_and_reserved_names_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (f, mode) in [
            ("finops-plugin-acme", 0o755),
            ("finops-plugin-beta", 0o755),
            ("finops-plugin-noexec", 0o644),
            ("finops-plugin-aws", 0o755),
            ("other", 0o755),
        ] {
            let p = dir.path().join(f);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let entries = vec![
            PluginEntry {
                name: "beta".into(),
                command: vec!["python3".into(), "beta.py".into()],
                env: vec!["BETA_TOKEN".into()],
                timeout: Some(5),
            },
            PluginEntry {
                name: "report".into(),
                command: vec!["x".into()],
                env: vec![],
                timeout: None,
            },
            PluginEntry {
                name: "Bad_Name".into(),
                command: vec!["x".into()],
                env: vec![],
                timeout: None,
            },
        ];
        let (found, problems) =
            discover(&entries, Some(dir.path().as_os_str()), &["aws", "report"]);
        let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["acme", "beta"]);
        assert_eq!(found[1].command, ["python3", "beta.py"], "the entry wins");
        assert_eq!(found[1].timeout, Duration::from_secs(5));
        assert!(found[0].origin.ends_with("finops-plugin-acme"));
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .to_string()
                .contains("`report` is one of finops's own"),
            "{}",
            problems[0]
        );
    }
}
