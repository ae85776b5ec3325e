//! What the benchmark reads from /proc (CPU time, RSS, process tree) and CPU
//! pinning with taskset.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, bail};
use nix::time::ClockId;
use nix::unistd::Pid;

/// The fields of /proc/PID/stat after the command name (field 3 is index 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// utime + stime of the whole process (all threads), in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let f = stat_fields(pid)?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time of the whole process (every thread, exited ones included), in
/// seconds, read from its CPU-time clock (`clock_getcpuclockid`): the
/// scheduler's own nanosecond count. /proc/PID/stat's utime and stime add up
/// to the same count but in whole 10 ms ticks, so a before/after difference
/// can be off by up to 20 ms: 7-20% of what a proxy spends in a 4 s run at
/// 500 rps (0.1-0.3 s). Falls back to them where the clock cannot be read.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let clock = i32::try_from(pid)
        .ok()
        .and_then(|p| ClockId::pid_cpu_clock_id(Pid::from_raw(p)).ok())
        .and_then(|c| c.now().ok());
    match clock {
        Some(t) => Some(t.tv_sec() as f64 + t.tv_nsec() as f64 * 1e-9),
        None => cpu_ticks(pid).map(|t| t as f64 / clk_tck() as f64),
    }
}

/// The sum of [`cpu_seconds`] over `pids` (gone processes count 0).
pub fn cpu_seconds_sum(pids: &[u32]) -> f64 {
    pids.iter().filter_map(|p| cpu_seconds(*p)).sum()
}

/// The parent pid.
pub fn ppid(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Memory of a process (or a sum over processes), KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mem {
    /// VmRSS: every resident page mapped, shared or not.
    pub rss: u64,
    /// RssAnon: resident anonymous pages (heap, stacks): the process's own memory.
    pub anon: u64,
    /// RssFile: resident file-backed pages (mostly the binary and libraries),
    /// shared with every process mapping the same files.
    pub file: u64,
    /// Pss (smaps_rollup): resident pages, each shared page divided by the
    /// number of processes mapping it.
    pub pss: u64,
}

impl Mem {
    /// The field-wise maximum (peaks of each field, not of one sample).
    pub fn max(self, o: Mem) -> Mem {
        Mem {
            rss: self.rss.max(o.rss),
            anon: self.anon.max(o.anon),
            file: self.file.max(o.file),
            pss: self.pss.max(o.pss),
        }
    }

    fn add(self, o: Mem) -> Mem {
        Mem {
            rss: self.rss + o.rss,
            anon: self.anon + o.anon,
            file: self.file + o.file,
            pss: self.pss + o.pss,
        }
    }
}

/// The value in KiB of the `key:` line of a /proc file such as status.
fn kib_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// VmRSS, RssAnon and RssFile (/proc/PID/status) and, when `pss`, Pss
/// (/proc/PID/smaps_rollup, which walks the page tables: dearer to read).
pub fn mem(pid: u32, pss: bool) -> Option<Mem> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let pss = if pss {
        std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .ok()
            .and_then(|s| kib_field(&s, "Pss:"))
            .unwrap_or(0)
    } else {
        0
    };
    Some(Mem {
        rss: kib_field(&status, "VmRSS:")?,
        anon: kib_field(&status, "RssAnon:").unwrap_or(0),
        file: kib_field(&status, "RssFile:").unwrap_or(0),
        pss,
    })
}

/// VmRSS in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    mem(pid, false).map(|m| m.rss)
}

/// The sum of [`mem`] over `pids`.
pub fn mem_sum(pids: &[u32], pss: bool) -> Mem {
    pids.iter()
        .filter_map(|p| mem(*p, pss))
        .fold(Mem::default(), Mem::add)
}

/// The command line, split at NULs.
pub fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The direct children of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| ppid(*p) == Some(pid))
        .collect()
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when that fails), asked once.
fn clk_tck() -> u64 {
    static TCK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TCK.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// A command for `program`, run under `taskset -c CPUS` when `cpus` is given.
pub fn pinned_command(program: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(c) => {
            let mut t = Command::new("taskset");
            t.args(["-c", c]).arg(program);
            t
        }
        None => Command::new(program),
    }
}

/// Pins every thread of `pid` to `cpus` (a taskset list such as `1` or `0,2-3`).
pub fn pin(pid: u32, cpus: &str) -> anyhow::Result<()> {
    let out = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .output()
        .context("run taskset (util-linux)")?;
    if !out.status.success() {
        bail!(
            "taskset -a -p -c {cpus} {pid}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Polls the summed memory of some processes in the background and keeps the
/// peak of each field: VmRSS, RssAnon and RssFile every 100 ms, Pss every 500 ms
/// (reading smaps_rollup walks the page tables of the measured process).
#[derive(Debug)]
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Mem>>,
}

impl RssSampler {
    pub fn start(pids: Vec<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut peak = mem_sum(&pids, true);
                let mut tick = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    tick += 1;
                    peak = peak.max(mem_sum(&pids, tick.is_multiple_of(5)));
                }
                peak
            })
        };
        RssSampler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the peaks.
    pub fn finish(mut self) -> Mem {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_memory() {
        let m = mem(std::process::id(), true).unwrap_or_default();
        assert!(m.rss > 0 && m.anon > 0 && m.file > 0 && m.pss > 0, "{m:?}");
        // VmRSS = RssAnon + RssFile + RssShmem; Pss counts shared pages in part.
        assert!(m.anon + m.file <= m.rss && m.pss <= m.rss, "{m:?}");
        assert_eq!(kib_field("Pss:  \t 1234 kB\n", "Pss:"), Some(1234));
    }
}
