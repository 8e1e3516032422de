//! One call of a plugin: its request on stdin, its reply from stdout, its stderr as log lines,
//! in an environment holding only what its entry allows, within its timeout. Every way a
//! plugin can misbehave becomes [`finops_core::Error::Plugin`], naming it and the call.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::discover::Plugin;
use crate::protocol::{Envelope, PROTOCOL, Request};

/// Variables every plugin sees (to find its interpreter), beside those its entry allows.
pub const ALWAYS: &[&str] = &["PATH"];

/// The error for `plugin`'s `call`.
pub(crate) fn error(
    plugin: &Plugin,
    call: &str,
    message: String,
    help: &str,
) -> finops_core::Error {
    finops_core::Error::Plugin {
        plugin: plugin.name.clone(),
        call: call.to_owned(),
        message,
        help: help.to_owned(),
    }
}

/// `text` with every secret replaced by `***`.
pub(crate) fn mask(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s.as_str(), "***");
    }
    out
}

/// Where a plugin runs: finops's own working directory, so that a relative path in its
/// settings (`--path data`) means what the user meant.
pub(crate) fn working_dir() -> std::path::PathBuf {
    std::env::current_dir().unwrap_or_else(|_| std::env::temp_dir())
}

/// Sends `request` (`call` names it in errors) and reads the reply as `T`; `cwd` is the
/// directory the plugin runs in; `secrets` are masked in what it says.
pub(crate) fn call<T: DeserializeOwned>(
    plugin: &Plugin,
    call: &str,
    request: &Request,
    cwd: &Path,
    secrets: &[String],
) -> finops_core::Result<T> {
    let (program, args) = plugin.command.split_first().ok_or_else(|| {
        error(
            plugin,
            call,
            "its command is empty".into(),
            "set `command` of its [[plugins]] entry",
        )
    })?;
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(cwd).env_clear();
    for var in ALWAYS
        .iter()
        .copied()
        .chain(plugin.env.iter().map(String::as_str))
    {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    let mut input = serde_json::to_vec(request).expect("a request serialises");
    input.push(b'\n');
    let done = finops_core::process::run(&mut cmd, &input, plugin.timeout).map_err(|f| match f {
        finops_core::process::Failure::Start(why) => error(
            plugin,
            call,
            format!("`{program}` cannot be started: {why}"),
            "check that the plugin's file exists and is executable (`command` of its [[plugins]] entry, or finops-plugin-<name> on PATH)",
        ),
        finops_core::process::Failure::Timeout(t) => error(
            plugin,
            call,
            format!("it did not answer within {} s and was stopped", t.as_secs()),
            "raise `timeout` of its [[plugins]] entry if it is slow, or fix the plugin: nothing was loaded from it",
        ),
    })?;
    let stderr = String::from_utf8_lossy(&done.stderr);
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        tracing::info!("plugin {}: {}", plugin.name, mask(line, secrets));
    }
    let reply: Result<Envelope, _> = serde_json::from_slice(done.stdout.trim_ascii());
    let reply = match reply {
        Ok(r) => r,
        Err(_) if !done.status.success() => {
            return Err(error(
                plugin,
                call,
                mask(
                    &format!(
                        "it exited with {} without a reply{}",
                        done.status,
                        match finops_core::process::tail(&done.stderr, 300) {
                            t if t.is_empty() => String::new(),
                            t => format!(": {t}"),
                        }
                    ),
                    secrets,
                ),
                "run `finops plugins check <name>`; its stderr is in the log (-v)",
            ));
        }
        Err(e) => {
            let shown: String = String::from_utf8_lossy(&done.stdout)
                .chars()
                .take(120)
                .collect();
            return Err(error(
                plugin,
                call,
                mask(
                    &format!("its output is not one JSON reply ({e}): `{}`", shown.trim()),
                    secrets,
                ),
                "a plugin prints exactly one JSON object on stdout per call; log lines go to stderr",
            ));
        }
    };
    match reply.protocol {
        Some(PROTOCOL) => {}
        Some(v) => {
            return Err(error(
                plugin,
                call,
                format!("it speaks protocol version {v}; this finops speaks {PROTOCOL}"),
                "use a plugin release for protocol 1, or a finops that speaks its version",
            ));
        }
        None => {
            return Err(error(
                plugin,
                call,
                "its reply has no `protocol` field".into(),
                "every reply carries \"protocol\": 1 (docs/plugins.md)",
            ));
        }
    }
    if let Some(e) = reply.error {
        return Err(error(
            plugin,
            call,
            mask(&e.message, secrets),
            &mask(
                e.help
                    .as_deref()
                    .unwrap_or("the plugin reported this error"),
                secrets,
            ),
        ));
    }
    if !done.status.success() {
        return Err(error(
            plugin,
            call,
            format!("it exited with {} after its reply", done.status),
            "a plugin exits 0 after a reply; report failures as {\"error\": {…}}",
        ));
    }
    serde_json::from_value(serde_json::Value::Object(reply.rest)).map_err(|e| {
        error(
            plugin,
            call,
            format!("its reply does not follow protocol {PROTOCOL}: {e}"),
            "see docs/plugins/ for the JSON Schema of each reply",
        )
    })
}

/// The timeout of a plugin without one in its entry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            super::mask("token abc used, abc again", &["abc".into(), String::new()]),
            "token *** used, *** again"
        );
    }
}
