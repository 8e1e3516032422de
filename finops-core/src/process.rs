//! Running another program with input, a deadline and its output captured: `[[hooks]]`
//! commands and source plugins. The child gets its own process group, killed whole at the
//! deadline.
//!
//! Its output is read by threads that are never waited on past a short grace once it has
//! exited or been killed: a program that leaves a process in the background (`notify … &`)
//! keeps the pipes open, and waiting for them would ignore the deadline and keep the
//! warehouse locked.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use wait_timeout::ChildExt;

/// What a program that finished in time wrote.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
}

/// Why a program could not be run to its end.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// It could not be started: the OS's reason.
    Start(String),
    /// It was killed at the deadline.
    Timeout(Duration),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Start(why) => write!(f, "cannot be started: {why}"),
            Self::Timeout(t) => write!(f, "killed after its timeout of {} s", t.as_secs()),
        }
    }
}

/// Runs `cmd` with `input` on its standard input, for at most `timeout`.
pub fn run(cmd: &mut Command, input: &[u8], timeout: Duration) -> Result<Finished, Failure> {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| Failure::Start(e.to_string()))?;
    // A program that does not read its input must not block us: write from a thread and
    // ignore a broken pipe.
    if let Some(mut stdin) = child.stdin.take() {
        let body = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
    }
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let Ok(Some(status)) = child.wait_timeout(timeout) else {
        // The whole process group: the program and whatever it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = child.kill();
        let _ = child.wait();
        return Err(Failure::Timeout(timeout));
    };
    let grace = Duration::from_millis(200);
    Ok(Finished {
        status,
        stdout: stdout.recv_timeout(grace).unwrap_or_default(),
        stderr: stderr.recv_timeout(grace).unwrap_or_default(),
    })
}

/// A thread reading `pipe` to its end.
fn drain(pipe: Option<Box<dyn Read + Send>>) -> Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut p) = pipe {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = p.read_to_end(&mut out);
            let _ = tx.send(out);
        });
    }
    rx
}

/// The last `n` characters of `text`, trimmed: for an error naming what a program said.
pub fn tail(text: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let t = text.trim();
    let skip = t.chars().count().saturating_sub(n);
    t.chars().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_timeout_and_start_failures() {
        let done = run(
            Command::new("sh").args(["-c", "read x; echo out:$x; echo err >&2; exit 3"]),
            b"in\n",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(done.stdout, b"out:in\n");
        assert_eq!(done.stderr, b"err\n");
        let slow = run(
            Command::new("sh").args(["-c", "sleep 30"]),
            b"",
            Duration::from_millis(300),
        );
        assert_eq!(
            slow.unwrap_err(),
            Failure::Timeout(Duration::from_millis(300))
        );
        let missing = run(
            &mut Command::new("/nonexistent/x"),
            b"",
            Duration::from_secs(1),
        );
        assert!(matches!(missing, Err(Failure::Start(_))));
        assert_eq!(tail(b"  abcdef \n", 3), "def");
    }
}
