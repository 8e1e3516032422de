//! Events and the hooks that receive them (`[[hooks]]` in finops.toml).
//!
//! An event is one JSON document (schema in docs/hooks.md): imports emit `import.completed`
//! and `import.failed`, `finops budgets check` emits `budget.threshold_exceeded`, and
//! `finops report anomalies` emits `anomaly.detected`. Each hook that listens to the event gets
//! it either on the standard input of a command (`sh -c`, with a timeout) or as the body of an
//! HTTP POST (retried on connection errors, 429 and 5xx). A hook that fails is logged as a
//! warning and never changes the outcome or the exit status of the command that emitted it.

use std::process::Command;
use std::time::{Duration, SystemTime};

use backon::{BlockingRetryable, ExponentialBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The value of every event's `schema` field; bumped only on an incompatible change.
pub const SCHEMA: &str = "finops.event/v1";

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// An export's import finished with every period loaded or skipped.
    #[serde(rename = "import.completed")]
    ImportCompleted,
    /// An import failed, entirely or for some periods.
    #[serde(rename = "import.failed")]
    ImportFailed,
    /// A budget's actual or forecast cost crossed one of its thresholds.
    #[serde(rename = "budget.threshold_exceeded")]
    BudgetThresholdExceeded,
    /// `finops report anomalies` found daily costs far from their recent history.
    #[serde(rename = "anomaly.detected")]
    AnomalyDetected,
}

impl EventKind {
    /// Every kind, for error messages.
    pub const ALL: [Self; 4] = [
        Self::ImportCompleted,
        Self::ImportFailed,
        Self::BudgetThresholdExceeded,
        Self::AnomalyDetected,
    ];

    /// The dotted name (`import.completed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImportCompleted => "import.completed",
            Self::ImportFailed => "import.failed",
            Self::BudgetThresholdExceeded => "budget.threshold_exceeded",
            Self::AnomalyDetected => "anomaly.detected",
        }
    }
}

/// One event as hooks receive it.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// What happened.
    pub event: EventKind,
    /// When, RFC 3339 in UTC, to the second.
    pub time: String,
    /// The finops version that emitted it.
    pub finops_version: &'static str,
    /// The warehouse file the command worked on.
    pub warehouse: String,
    /// The event's own fields (docs/hooks.md).
    pub data: Value,
}

impl Event {
    /// An event of `kind` about `warehouse`, stamped now.
    pub fn new(kind: EventKind, warehouse: &std::path::Path, data: Value) -> Self {
        Self {
            schema: SCHEMA,
            event: kind,
            time: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            finops_version: env!("CARGO_PKG_VERSION"),
            warehouse: warehouse.display().to_string(),
            data,
        }
    }
}

/// Which events a hook listens to: one name, or `*` for all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventFilter {
    /// `*`.
    All,
    /// One kind.
    Only(EventKind),
}

impl<'de> Deserialize<'de> for EventFilter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if name == "*" {
            return Ok(Self::All);
        }
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .map(Self::Only)
            .ok_or_else(|| {
                let names: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                serde::de::Error::custom(format!(
                    "unknown event `{name}`; expected `*` or one of: {}",
                    names.join(", ")
                ))
            })
    }
}

/// One `[[hooks]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// A name for log lines (default: the event and the hook's position).
    pub name: Option<String>,
    /// The event it listens to, or `*`.
    pub event: EventFilter,
    /// A shell command (`sh -c`) that reads the event as JSON on its standard input.
    pub command: Option<String>,
    /// An `http(s)://` URL that receives the event as the body of a POST.
    pub url: Option<String>,
    /// Seconds before the command is killed, or before one HTTP attempt gives up.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// HTTP only: attempts after the first, on connection errors, 429 and 5xx.
    #[serde(default = "default_retries")]
    pub retries: usize,
}

fn default_timeout() -> u64 {
    30
}

fn default_retries() -> usize {
    3
}

/// Where a hook delivers.
#[derive(Clone, Debug)]
enum Target {
    Command(String),
    Url(String),
}

/// A checked hook.
#[derive(Clone, Debug)]
struct Hook {
    name: String,
    filter: EventFilter,
    target: Target,
    timeout: Duration,
    retries: usize,
    /// First delay between HTTP attempts (doubles each time); shortened in tests.
    backoff: Duration,
}

/// The hooks of this run, checked at start-up so that a bad entry fails before any work.
#[derive(Clone, Debug, Default)]
pub struct Hooks {
    hooks: Vec<Hook>,
}

impl Hooks {
    /// Checks the `[[hooks]]` entries: each has exactly one of `command` and `url`, and a URL
    /// is `http://` or `https://`.
    pub fn new(configs: Vec<HookConfig>) -> Result<Self> {
        let backoff = crate::env::var(crate::env::FINOPS_TEST_HOOK_BACKOFF_MS)
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_millis(500), Duration::from_millis);
        let mut hooks = Vec::new();
        for (i, c) in configs.into_iter().enumerate() {
            let position = format!("[[hooks]] #{}", i + 1);
            let target = match (c.command, c.url) {
                (Some(cmd), None) if !cmd.trim().is_empty() => Target::Command(cmd),
                (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
                    Target::Url(url)
                }
                (None, Some(url)) => {
                    return Err(Error::ConfigInvalid {
                        message: format!(
                            "{position}: url `{}` is not an http:// or https:// URL",
                            redact_url(&url)
                        ),
                    });
                }
                _ => {
                    return Err(Error::ConfigInvalid {
                        message: format!(
                            "{position}: give exactly one of `command` (a shell command that \
                             reads the event on stdin) and `url` (a webhook)"
                        ),
                    });
                }
            };
            if c.timeout == 0 {
                return Err(Error::ConfigInvalid {
                    message: format!("{position}: timeout must be at least 1 second"),
                });
            }
            hooks.push(Hook {
                name: c.name.unwrap_or(position),
                filter: c.event,
                target,
                timeout: Duration::from_secs(c.timeout),
                retries: c.retries,
                backoff,
            });
        }
        Ok(Self { hooks })
    }

    /// Each hook as `config show` prints it: name, event, and the command or the redacted URL.
    pub fn describe(&self) -> Vec<serde_json::Value> {
        self.hooks
            .iter()
            .map(|h| {
                let (kind, target) = match &h.target {
                    Target::Command(c) => ("command", c.clone()),
                    Target::Url(u) => ("url", redact_url(u)),
                };
                let event = match h.filter {
                    EventFilter::All => "*",
                    EventFilter::Only(k) => k.as_str(),
                };
                serde_json::json!({"name": h.name, "event": event, kind: target})
            })
            .collect()
    }

    /// True when no hook listens to `kind` (callers may skip building the event).
    pub fn is_idle(&self, kind: EventKind) -> bool {
        !self.hooks.iter().any(|h| h.listens(kind))
    }

    /// Delivers `event` to every hook that listens to it, one after the other. Failures are
    /// logged; they never propagate. True when every listening hook received it.
    pub fn emit(&self, event: &Event) -> bool {
        let body = match serde_json::to_vec(event) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("cannot encode the {} event: {e}", event.event.as_str());
                return false;
            }
        };
        let mut all = true;
        for hook in self.hooks.iter().filter(|h| h.listens(event.event)) {
            let result = match &hook.target {
                Target::Command(cmd) => run_command(cmd, event.event, &body, hook.timeout),
                Target::Url(url) => post(url, &body, hook),
            };
            match result {
                Ok(()) => tracing::info!("hook {}: {} delivered", hook.name, event.event.as_str()),
                Err(why) => {
                    all = false;
                    tracing::warn!(
                        "hook {} failed for {} (the command's result is unchanged): {why}",
                        hook.name,
                        event.event.as_str()
                    );
                }
            }
        }
        all
    }
}

impl Hook {
    fn listens(&self, kind: EventKind) -> bool {
        match self.filter {
            EventFilter::All => true,
            EventFilter::Only(k) => k == kind,
        }
    }
}

/// Runs `sh -c cmd` with the event on stdin and `FINOPS_EVENT` set; kills it (and every
/// process it started) after `timeout` ([`crate::process::run`]).
fn run_command(
    cmd: &str,
    kind: EventKind,
    body: &[u8],
    timeout: Duration,
) -> std::result::Result<(), String> {
    let done = crate::process::run(
        Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("FINOPS_EVENT", kind.as_str()),
        body,
        timeout,
    )
    .map_err(|f| match f {
        crate::process::Failure::Start(why) => format!("cannot start `sh`: {why}"),
        timeout @ crate::process::Failure::Timeout(_) => timeout.to_string(),
    })?;
    let stdout = String::from_utf8_lossy(&done.stdout);
    if !stdout.trim().is_empty() {
        tracing::debug!("hook output: {}", stdout.trim());
    }
    if done.status.success() {
        Ok(())
    } else {
        Err(format!(
            "exited with {}: {}",
            done.status,
            crate::process::tail(&done.stderr, 500)
        ))
    }
}

/// One POST per attempt; retried with exponential backoff on connection errors, 429 and 5xx.
fn post(url: &str, body: &[u8], hook: &Hook) -> std::result::Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(hook.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let shown = redact_url(url);
    let attempt = || -> std::result::Result<(), (bool, String)> {
        match agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("finops/", env!("CARGO_PKG_VERSION")))
            .send(body)
        {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match status {
                    200..=299 => Ok(()),
                    429 | 500..=599 => Err((true, format!("{shown} answered HTTP {status}"))),
                    _ => Err((false, format!("{shown} answered HTTP {status}"))),
                }
            }
            Err(e) => Err((true, format!("{shown}: {e}"))),
        }
    };
    attempt
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(hook.backoff)
                .with_max_times(hook.retries),
        )
        .sleep(std::thread::sleep)
        .when(|(retry, _)| *retry)
        .notify(|(_, why), after| {
            tracing::info!("hook {}: {why}; retrying in {after:?}", hook.name);
        })
        .call()
        .map_err(|(_, why)| why)
}

/// `scheme://host/…`: webhook URLs often carry their secret in the path or the query.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let more = rest.len() > authority.len();
    // Without the user and password of `user:pw@host`.
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if scheme.is_empty() {
        "(not a URL)".to_owned()
    } else {
        format!("{scheme}://{host}{}", if more { "/…" } else { "" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_secret() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/SECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact_url("http://user:pw@127.0.0.1:80"),
            "http://127.0.0.1:80"
        );
        assert_eq!(redact_url("ftp:x"), "(not a URL)");
    }

    #[test]
    fn hooks_are_checked() {
        let parse = |toml: &str| -> Result<Hooks> {
            #[derive(Deserialize)]
            struct F {
                hooks: Vec<HookConfig>,
            }
            let f: F = toml::from_str(toml).map_err(|e| Error::ConfigInvalid {
                message: e.to_string(),
            })?;
            Hooks::new(f.hooks)
        };
        let both = parse("[[hooks]]\nevent='*'\ncommand='cat'\nurl='http://x'\n").unwrap_err();
        assert!(
            both.to_string().contains("exactly one of `command`"),
            "{both}"
        );
        let ftp = parse("[[hooks]]\nevent='*'\nurl='ftp://x/secret'\n").unwrap_err();
        assert!(ftp.to_string().contains("ftp://x/…"), "{ftp}");
        let bad = parse("[[hooks]]\nevent='import.done'\ncommand='cat'\n").unwrap_err();
        assert!(
            bad.to_string()
                .contains("expected `*` or one of: import.completed"),
            "{bad}"
        );
        let ok = parse("[[hooks]]\nevent='anomaly.detected'\ncommand='cat'\n").unwrap();
        assert!(!ok.is_idle(EventKind::AnomalyDetected));
        assert!(ok.is_idle(EventKind::ImportCompleted));
    }

    #[test]
    fn a_command_gets_the_event_and_a_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("event.json");
        let event = Event::new(
            EventKind::ImportCompleted,
            std::path::Path::new("w.duckdb"),
            serde_json::json!({"x": 1}),
        );
        let body = serde_json::to_vec(&event).unwrap();
        let cmd = format!(
            "cat > '{}'; test \"$FINOPS_EVENT\" = import.completed",
            out.display()
        );
        run_command(&cmd, event.event, &body, Duration::from_secs(5)).unwrap();
        let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(got["schema"], SCHEMA);
        assert_eq!(got["event"], "import.completed");
        assert_eq!(got["data"]["x"], 1);
        let slow = run_command("sleep 5", event.event, &body, Duration::from_secs(1)).unwrap_err();
        assert!(slow.contains("timeout of 1 s"), "{slow}");
        let failing = run_command(
            "echo oops >&2; exit 3",
            event.event,
            &body,
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(
            failing.contains("exit status: 3") && failing.contains("oops"),
            "{failing}"
        );
    }

    /// Issue #17 (12): a command that leaves a process in the background holding its output
    /// open returns when the command does, and a timeout kills the whole group.
    #[test]
    fn a_background_process_does_not_hold_the_hook() {
        let body = b"{}";
        let started = std::time::Instant::now();
        run_command(
            "sleep 30 & echo started",
            EventKind::ImportCompleted,
            body,
            Duration::from_secs(20),
        )
        .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let started = std::time::Instant::now();
        let err = run_command(
            &format!("(sleep 3; touch '{}') & sleep 30", marker.display()),
            EventKind::ImportCompleted,
            body,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.contains("timeout of 1 s"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_secs(4));
        assert!(
            !marker.exists(),
            "the background process outlived the timeout"
        );
    }
}
