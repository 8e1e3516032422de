//! Tests of the `finops` binary's command line: help, version, vendors missing from the
//! build, configuration layering and errors. Built twice by `scripts/test`: with every
//! feature, and with `--no-default-features` (no vendor compiled in).

use std::path::Path;
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `finops` in `dir` with only the given environment.
fn finops(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run finops");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn snapshot(run: &Run) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

const FEATURES: &str = if cfg!(all(feature = "aws", feature = "azure")) {
    "all"
} else if cfg!(feature = "aws") {
    "aws"
} else {
    "none"
};

#[test]
fn version_lists_compiled_vendors() {
    let dir = tempfile::tempdir().unwrap();
    let run = finops(dir.path(), &[], &["--version"]);
    assert_eq!(run.code, 0);
    let want = match FEATURES {
        "all" => "(+aws +azure +gcp +oracle +lake)",
        "aws" => "(+aws -azure -gcp -oracle -lake)",
        _ => "(-aws -azure -gcp -oracle -lake)",
    };
    assert_eq!(
        run.stdout.trim(),
        format!("finops {} {want}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help() {
    let dir = tempfile::tempdir().unwrap();
    let run = finops(dir.path(), &[], &["--help"]);
    insta::assert_snapshot!(format!("help_{FEATURES}"), snapshot(&run));
}

#[cfg(feature = "aws")]
#[test]
fn aws_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["import-cur", "import-ce", "list-exports", "show-state"] {
        let run = finops(dir.path(), &[], &["aws", cmd, "--help"]);
        assert_eq!(run.code, 0);
        insta::assert_snapshot!(format!("aws_{cmd}_help"), snapshot(&run));
    }
}

#[cfg(feature = "azure")]
#[test]
fn azure_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["import-exports", "list-exports", "show-state"] {
        let run = finops(dir.path(), &[], &["azure", cmd, "--help"]);
        assert_eq!(run.code, 0);
        insta::assert_snapshot!(format!("azure_{cmd}_help"), snapshot(&run));
    }
}

#[test]
fn focus_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["validate", "export"] {
        let run = finops(dir.path(), &[], &["focus", cmd, "--help"]);
        assert_eq!(run.code, 0);
        insta::assert_snapshot!(format!("focus_{cmd}_help"), snapshot(&run));
    }
}

#[test]
fn report_help() {
    let dir = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("report_costs_help", &["report", "costs", "--help"][..]),
        ("report_anomalies_help", &["report", "anomalies", "--help"]),
        ("budgets_check_help", &["budgets", "check", "--help"]),
    ] {
        let run = finops(dir.path(), &[], args);
        assert_eq!(run.code, 0);
        insta::assert_snapshot!(name, snapshot(&run));
    }
}

#[test]
fn focus_without_a_warehouse_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let run = finops(dir.path(), &[], &["focus", "validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("there are no FOCUS rows in `finops.duckdb` yet"),
        "{run:?}"
    );
    assert!(run.stderr.contains("import something first"), "{run:?}");
    let run = finops(dir.path(), &[], &["config", "show", "--format", "csv"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("--format csv is not a format of this command"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("csv and html for `finops report`"),
        "{run:?}"
    );
}

#[test]
fn reports_without_data_or_budgets_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["report", "costs"][..], &["report", "anomalies"]] {
        let run = finops(dir.path(), &[], args);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("there are no FOCUS rows in `finops.duckdb` yet"),
            "{run:?}"
        );
    }
    let run = finops(dir.path(), &[], &["budgets", "check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("no [[budgets]] in the configuration"),
        "{run:?}"
    );
    assert!(run.stderr.contains("thresholds = [80, 100]"), "{run:?}");
    let run = finops(dir.path(), &[], &["report", "costs", "--by", "tag:"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("`tag:` is not a dimension"), "{run:?}");
    let run = finops(
        dir.path(),
        &[],
        &["report", "costs", "--period", "2024-03..2024-01"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("2024-01 is before 2024-03"), "{run:?}");
}

/// Regression for the foundation issue: a vendor that is not compiled in still parses and
/// names the feature to install, with exit 2.
#[cfg(not(feature = "aws"))]
#[test]
fn aws_not_compiled_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let run = finops(
        dir.path(),
        &[],
        &[
            "aws",
            "import-cur",
            "--bucket",
            "b",
            "--report",
            "r",
            "--dry-run",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("the `aws` vendor is not compiled into this binary"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("cargo install finops-cli --features aws"),
        "{run:?}"
    );
    insta::assert_snapshot!("aws_not_compiled", snapshot(&run));
}

#[cfg(not(feature = "azure"))]
#[test]
fn azure_not_compiled_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let run = finops(
        dir.path(),
        &[],
        &["azure", "import-exports", "--container", "x"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("the `azure` vendor is not compiled into this binary"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("cargo install finops-cli --features azure"),
        "{run:?}"
    );
}

#[cfg(not(feature = "lake"))]
#[test]
fn lake_not_compiled_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["lake", "sync", "--to", "s3://b/p"][..],
        &["focus", "export", "--layout", "hive", "--to", "s3://b/p"][..],
    ] {
        let run = finops(dir.path(), &[], args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr
                .contains("cargo install finops-cli --features lake"),
            "{run:?}"
        );
    }
}

#[cfg(not(feature = "oracle"))]
#[test]
fn oracle_not_compiled_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let run = finops(dir.path(), &[], &["oracle", "import", "--tenancy", "x"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("the `oracle` vendor is not compiled into this binary"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("cargo install finops-cli --features oracle"),
        "{run:?}"
    );
}

#[test]
fn unknown_config_key_suggests_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("finops.toml"),
        "[warehouse]\npaht = \"x.duckdb\"\n",
    )
    .unwrap();
    let run = finops(dir.path(), &[], &["config", "show"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("unknown config key `warehouse.paht`"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("did you mean `warehouse.path`?"),
        "{run:?}"
    );
    insta::assert_snapshot!("unknown_key", snapshot(&run));
}

#[test]
fn bad_toml_points_at_the_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("finops.toml"), "[warehouse]\npath = \n").unwrap();
    let run = finops(dir.path(), &[], &["config", "show"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not valid TOML"), "{run:?}");
}

#[test]
fn config_show_lists_budgets_and_hooks_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("finops.toml"),
        "[[budgets]]\nname = \"cloud\"\namount = 10\n\n[[hooks]]\nevent = \"*\"\n\
         url = \"https://hooks.example.com/services/T0/s3cr3t-token\"\n\n[[hooks]]\nname = \"log\"\n\
         event = \"import.failed\"\ncommand = \"logger finops\"\n",
    )
    .unwrap();
    let run = finops(dir.path(), &[], &["config", "show", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["budgets"], serde_json::json!(["cloud"]));
    assert_eq!(
        v["hooks"],
        serde_json::json!([
            {"name": "[[hooks]] #1", "event": "*", "url": "https://hooks.example.com/…"},
            {"name": "log", "event": "import.failed", "command": "logger finops"},
        ])
    );
    let text = finops(dir.path(), &[], &["config", "show"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("[[budgets]]: cloud"), "{text:?}");
    assert!(
        text.stdout.contains("POST https://hooks.example.com/…"),
        "{text:?}"
    );
    assert!(!text.stdout.contains("s3cr3t") && !run.stdout.contains("s3cr3t"));
}

#[test]
fn config_show_reports_each_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("finops.toml"),
        "[warehouse]\nmemory_limit = \"2GB\"\npath = \"from-file.duckdb\"\n",
    )
    .unwrap();
    let run = finops(
        dir.path(),
        &[
            ("FINOPS_WAREHOUSE_THREADS", "3"),
            ("FINOPS_WAREHOUSE_PATH", "from-env.duckdb"),
        ],
        &[
            "config",
            "show",
            "--warehouse",
            "from-flag.duckdb",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let key = |k: &str| {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(v["file"], "finops.toml");
    assert_eq!(key("warehouse.path")["value"], "from-flag.duckdb");
    assert_eq!(key("warehouse.path")["origin"], "flag --warehouse");
    assert_eq!(key("warehouse.memory_limit")["value"], "2GB");
    assert_eq!(key("warehouse.memory_limit")["origin"], "file finops.toml");
    assert_eq!(key("warehouse.threads")["value"], "3");
    assert_eq!(
        key("warehouse.threads")["origin"],
        "env FINOPS_WAREHOUSE_THREADS"
    );
    assert_eq!(key("output.format")["value"], "json");
    assert_eq!(key("output.format")["origin"], "flag --format");
}

#[cfg(feature = "aws")]
#[test]
fn config_show_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("finops.toml"),
        "[aws]\nbucket = \"billing\"\naccess_key_id = \"AKIAEXAMPLE\"\nsecret_access_key = \"wJalrXUtnFEMI/K7MDENG\"\n",
    )
    .unwrap();
    let mut env = vec![("FINOPS_AWS_SESSION_TOKEN", "FwoGZXIvYXdzEJr")];
    if cfg!(feature = "azure") {
        env.push((
            "FINOPS_AZURE_CONNECTION_STRING",
            "AccountName=acct;AccountKey=c2VjcmV0S2V5VmFsdWU=",
        ));
        env.push(("FINOPS_AZURE_CLIENT_SECRET", "Q~entraSecretValue"));
    }
    let run = finops(dir.path(), &env, &["config", "show"]);
    assert_eq!(run.code, 0, "{run:?}");
    let all = format!("{}{}", run.stdout, run.stderr);
    for secret in [
        "wJalrXUtnFEMI",
        "FwoGZXIvYXdzEJr",
        "c2VjcmV0S2V5",
        "entraSecret",
    ] {
        assert!(!all.contains(secret), "{secret} printed: {run:?}");
    }
    assert!(run.stdout.contains("aws.secret_access_key"), "{run:?}");
    insta::assert_snapshot!(format!("config_show_{FEATURES}"), snapshot(&run));
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = finops(dir.path(), &[], &["imprt"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("`imprt` is neither a finops command nor a plugin"),
        "{run:?}"
    );
    // A typo of a command still gets the command suggested.
    let run = finops(dir.path(), &[], &["reprot", "costs"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("did you mean `report`?"), "{run:?}");
}

/// Issue #17: shell completions and the man page, generated from the clap definition.
#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let bash = finops(dir.path(), &[], &["completions", "bash"]);
    assert_eq!(bash.code, 0, "{bash:?}");
    insta::assert_snapshot!(format!("completions_bash_{FEATURES}"), bash.stdout);
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = finops(dir.path(), &[], &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {run:?}");
        for word in ["report", "budgets", "focus", "completions"] {
            assert!(run.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    let bad = finops(dir.path(), &[], &["completions", "tcsh"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("possible values"), "{bad:?}");
    let man = finops(dir.path(), &[], &["man"]);
    assert_eq!(man.code, 0, "{man:?}");
    assert!(man.stdout.starts_with(".ie"), "roff: {}", &man.stdout[..80]);
    insta::assert_snapshot!(format!("man_{FEATURES}"), man.stdout);
}

/// Issue #17 (20): `config show` checks what the commands check, and names the key as written.
#[test]
fn config_show_refuses_what_commands_would() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("finops.toml"),
        "[warehouse]\nmemory_limit = 5\n",
    )
    .unwrap();
    let run = finops(dir.path(), &[], &["config", "show"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("`warehouse.memory_limit` (file finops.toml): `5` has no unit"),
        "{run:?}"
    );
    std::fs::remove_file(dir.path().join("finops.toml")).unwrap();
    for (value, why) in [
        ("abc", "`abc` is not a memory size"),
        ("-5GB", "`-5GB` is not a memory size"),
    ] {
        let env = [("FINOPS_WAREHOUSE_MEMORY_LIMIT", value)];
        let run = finops(dir.path(), &env, &["config", "show"]);
        assert_eq!(run.code, 2, "{value}: {run:?}");
        assert!(
            run.stderr.contains(why) && run.stderr.contains("env FINOPS_WAREHOUSE_MEMORY_LIMIT"),
            "{value}: {run:?}"
        );
        let run = finops(dir.path(), &env, &["focus", "validate"]);
        assert_eq!(run.code, 2, "{value}: {run:?}");
        assert!(run.stderr.contains(why), "{value}: {run:?}");
    }
    let env = [("FINOPS_IMPORT_ROUNDING_TOLERANCE", "-1")];
    let run = finops(dir.path(), &env, &["config", "show"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not a tolerance"), "{run:?}");
    let run = finops(
        dir.path(),
        &[("FINOPS_WAREHOUSE_MEMORY_LIMIT", "512MB")],
        &["config", "show"],
    );
    assert_eq!(run.code, 0, "{run:?}");
}
