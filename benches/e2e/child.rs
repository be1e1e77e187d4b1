//! Contender child processes: spawning, the JSON-lines protocol on their stdout, and sampling
//! their peak RSS and CPU time from /proc.
//!
//! Protocol (both directions are line based):
//! - the child prints `{"event":"ready"}` once it processes input, and a final
//!   `{"event":"stats",...}` line before it exits (`{"event":"unavailable","reason":...}` if it
//!   cannot run the scenario);
//! - the harness may write `expected N` lines to the child's stdin (latency runs: the number of
//!   input records is known only once the load producer is done);
//! - the child stops (closing cleanly) when its stdin reaches EOF.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A line-protocol event from a child.
#[derive(Debug)]
pub(crate) enum Event {
    Ready,
    Stats(Value),
    Unavailable(String),
}

/// How a child run ended.
#[derive(Debug, Clone)]
pub(crate) struct Exit {
    pub(crate) code: Option<i32>,
    pub(crate) peak_rss_kb: u64,
    pub(crate) cpu_s: f64,
    pub(crate) wall_s: f64,
    /// The child's final stats line, if it printed one.
    pub(crate) stats: Option<Value>,
    /// Set when the harness had to stop or kill it.
    pub(crate) forced: Option<String>,
}

/// A running contender.
pub(crate) struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Event>,
    log: PathBuf,
    started: Instant,
    peak_rss_kb: u64,
    cpu_ticks: u64,
    stats: Option<Value>,
    unavailable: Option<String>,
}

fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The state letter and utime+stime (ticks) of a process; `None` once it is reaped.
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((state, utime + stime))
}

/// Peak resident set (kB): VmHWM, or VmRSS where VmHWM is missing.
fn proc_peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    field("VmHWM:").or_else(|| field("VmRSS:"))
}

/// The last `n` lines of a log file, for error messages.
pub(crate) fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Running {
    /// Starts `program args`, stdout parsed as events, stderr (and any non-event stdout) to
    /// `log`.
    pub(crate) fn spawn(program: &Path, args: &[String], log: &Path) -> Result<Running, String> {
        let log_file = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let mut log_copy = log_file
            .try_clone()
            .map_err(|e| format!("opening {}: {e}", log.display()))?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|e| format!("starting `{}`: {e}", program.display()))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| "child has no stdout".to_string())?;
        let (tx, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log_copy, "[stdout] {line}");
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let event = match v.get("event").and_then(Value::as_str) {
                    Some("ready") => Event::Ready,
                    Some("stats") => Event::Stats(v),
                    Some("unavailable") => Event::Unavailable(
                        v.get("reason")
                            .and_then(Value::as_str)
                            .unwrap_or("unavailable")
                            .to_string(),
                    ),
                    _ => continue,
                };
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        Ok(Running {
            child,
            stdin,
            events,
            log: log.to_path_buf(),
            started: Instant::now(),
            peak_rss_kb: 0,
            cpu_ticks: 0,
            stats: None,
            unavailable: None,
        })
    }

    /// Samples /proc; returns the process state letter (`None`: gone).
    fn sample(&mut self) -> Option<char> {
        let pid = self.child.id();
        if let Some(kb) = proc_peak_rss_kb(pid) {
            self.peak_rss_kb = self.peak_rss_kb.max(kb);
        }
        let (state, ticks) = proc_stat(pid)?;
        self.cpu_ticks = self.cpu_ticks.max(ticks);
        Some(state)
    }

    fn exited(&mut self) -> bool {
        matches!(self.sample(), None | Some('Z' | 'X'))
    }

    fn handle(&mut self, event: Event) -> bool {
        match event {
            Event::Ready => return true,
            Event::Stats(v) => self.stats = Some(v),
            Event::Unavailable(r) => self.unavailable = Some(r),
        }
        false
    }

    /// Waits until the child says it is ready (at most `timeout`).
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.events.recv_timeout(Duration::from_millis(50)) {
                Ok(e) => {
                    if self.handle(e) {
                        return Ok(());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    // stdout closed: the child is exiting.
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            if let Some(r) = &self.unavailable {
                return Err(format!("unavailable: {r}"));
            }
            if self.exited() {
                return Err(format!(
                    "exited before it was ready; last lines of {}:\n{}",
                    self.log.display(),
                    tail(&self.log, 15)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not ready after {timeout:?}; last lines of {}:\n{}",
                    self.log.display(),
                    tail(&self.log, 15)
                ));
            }
        }
    }

    /// Tells the child how many input records to expect before it stops.
    pub(crate) fn send_expected(&mut self, n: u64) {
        if let Some(stdin) = &mut self.stdin {
            let _ = writeln!(stdin, "expected {n}");
            let _ = stdin.flush();
        }
    }

    /// Asks the child to stop (closes its stdin).
    pub(crate) fn request_stop(&mut self) {
        self.stdin = None;
    }

    /// Waits for the child to exit by itself (at most `timeout`); then asks it to stop (30 s
    /// more) and finally kills it. Always reaps it.
    pub(crate) fn wait_exit(mut self, timeout: Duration) -> Exit {
        let mut forced = None;
        let mut deadline = Instant::now() + timeout;
        let mut stage = 0;
        loop {
            while let Ok(e) = self.events.try_recv() {
                self.handle(e);
            }
            if self.exited() {
                break;
            }
            if Instant::now() > deadline {
                match stage {
                    0 => {
                        forced = Some(format!("did not finish within {timeout:?}; asked to stop"));
                        self.request_stop();
                        deadline = Instant::now() + Duration::from_secs(30);
                        stage = 1;
                    }
                    _ => {
                        forced = Some(format!("did not finish within {timeout:?}; killed"));
                        let _ = self.child.kill();
                        break;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = self.child.wait().ok();
        // The stats line may still be in the pipe.
        let drain_until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < drain_until {
            match self.events.recv_timeout(Duration::from_millis(50)) {
                Ok(e) => {
                    self.handle(e);
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        let self_reported = self
            .stats
            .as_ref()
            .and_then(|s| s.get("vm_hwm_kb"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Exit {
            code: status.and_then(|s| s.code()),
            peak_rss_kb: self.peak_rss_kb.max(self_reported),
            cpu_s: self.cpu_ticks as f64 / clock_ticks(),
            wall_s: self.started.elapsed().as_secs_f64(),
            stats: self.stats,
            forced,
        }
    }

    /// Path of the child's log.
    pub(crate) fn log(&self) -> &Path {
        &self.log
    }
}

/// Child side of the protocol: prints one JSON event line on stdout.
pub(crate) fn emit(v: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

/// Child side: watches stdin; returns a flag set at EOF (the harness asks to stop) and the
/// expected input count, updated by `expected N` lines.
pub(crate) fn watch_stdin(
    expected: u64,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let closed = Arc::new(AtomicBool::new(false));
    let expect = Arc::new(AtomicU64::new(expected));
    let (c, e) = (Arc::clone(&closed), Arc::clone(&expect));
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line
                .strip_prefix("expected ")
                .and_then(|n| n.trim().parse().ok())
            {
                e.store(n, Ordering::Release);
            }
        }
        c.store(true, Ordering::Release);
    });
    (closed, expect)
}

/// Child side: this process's own peak RSS (kB).
pub(crate) fn self_peak_rss_kb() -> u64 {
    proc_peak_rss_kb(std::process::id()).unwrap_or(0)
}
