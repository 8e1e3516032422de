//! Fault injection for the crash-safety tests.
//!
//! With the internal `_failpoints` feature (on in test builds, which use `--all-features`;
//! never in `--features all`), `FINOPS_FAILPOINTS=name[,name…]` makes the process abort
//! at the named points, as a power cut or `kill -9` would: no destructors, no rollback. Without
//! the feature every call compiles to nothing.
//!
//! Points: `download` (after the first chunk of a download, or a local copy's first file), `before-load` (files staged,
//! nothing loaded), `parse` (while the files are parsed into the period's new table, at the
//! latest right after it), `insert` (in the period's transaction, while the FOCUS rows are
//! inserted and the period's tables swapped, at the latest right after it),
//! `before-commit` (rows and state written, transaction open), `after-commit` (committed,
//! staging not yet removed), `between-periods` (one period done, the next not started),
//! `allocate-before-commit` (a period's allocation written, its transaction open),
//! `lake-before-commit` (a lake period's files uploaded, its Delta commit not made).

/// Aborts the process if `name` is listed in `FINOPS_FAILPOINTS`.
#[inline]
pub fn point(name: &str) {
    #[cfg(feature = "_failpoints")]
    if armed(name) {
        die(name);
    }
    #[cfg(not(feature = "_failpoints"))]
    let _ = name;
}

/// A point that fires while a long statement runs: a timer aborts the process after
/// `after_ms`; [`Timer::finish`] aborts at once if the timer has not fired yet, so the
/// process never survives past the statement.
pub struct Timer {
    #[cfg(feature = "_failpoints")]
    name: Option<String>,
}

impl Timer {
    /// Arms a timer for `name` (does nothing unless the point is listed).
    pub fn start(name: &str, after_ms: u64) -> Self {
        #[cfg(feature = "_failpoints")]
        {
            if armed(name) {
                let owned = name.to_owned();
                std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(after_ms));
                    die(&owned);
                });
                return Self {
                    name: Some(name.to_owned()),
                };
            }
            Self { name: None }
        }
        #[cfg(not(feature = "_failpoints"))]
        {
            let _ = (name, after_ms);
            Self {}
        }
    }

    /// The statement finished: die now if the timer has not.
    pub fn finish(self) {
        #[cfg(feature = "_failpoints")]
        if let Some(name) = &self.name {
            die(name);
        }
    }
}

/// A rendezvous of processes for the concurrency tests: with `FINOPS_BARRIER=DIR:N`, each
/// process that reaches the barrier leaves a file in DIR and waits (at most a minute) until N
/// have; without the feature, or the variable, it returns at once.
pub fn barrier() {
    #[cfg(feature = "_failpoints")]
    if let Some(spec) = crate::env::var(crate::env::FINOPS_BARRIER)
        && let Some((dir, n)) = spec.rsplit_once(':')
        && let Ok(n) = n.parse::<usize>()
    {
        let dir = std::path::Path::new(dir);
        let _ = std::fs::write(dir.join(std::process::id().to_string()), b"");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::fs::read_dir(dir).map_or(0, Iterator::count) < n
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

#[cfg(feature = "_failpoints")]
fn armed(name: &str) -> bool {
    crate::env::var(crate::env::FINOPS_FAILPOINTS)
        .is_some_and(|list| list.split(',').any(|p| p.trim() == name))
}

#[cfg(feature = "_failpoints")]
fn die(name: &str) -> ! {
    #[allow(clippy::print_stderr)]
    {
        eprintln!("failpoint `{name}`: aborting");
    }
    std::process::abort()
}
