//! What the load generator reads and changes on the machine (Linux): the
//! open-file limit, the load average, a process's memory and CPU time from
//! `/proc`, and busy processes that compete for the CPU.

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

/// Raises this process's open-file limit to its hard limit (the server
/// processes started afterwards inherit it); the new soft limit.
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

/// The 1, 5 and 15 minute load averages, as `uptime` prints them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Microseconds since the generator started: the clock of every timetable.
pub fn now_us() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// The instant `now_us` counts from.
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A process's resident memory (bytes) and CPU time (user + system, seconds).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// `VmRSS`.
    pub rss: f64,
    /// `utime + stime`.
    pub cpu: f64,
}

impl Usage {
    /// The usage of process `pid` now; panics if it is gone (the server died).
    pub fn of(pid: u32) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_else(|e| panic!("server process {pid} is gone: {e}"));
        let rss_kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmRSS in /proc/<pid>/status");
        Self {
            rss: rss_kib * 1024.0,
            cpu: cpu_seconds(pid).expect("CPU times in /proc/<pid>/stat"),
        }
    }
}

/// User + system CPU time of a process, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (which may hold spaces): utime and stime are
    // fields 14 and 15, in clock ticks.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks = fields.next()?.parse::<f64>().ok()? + fields.next()?.parse::<f64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(ticks / per_second.max(1) as f64)
}

/// Busy processes (`LOAD_HOG`) competing with the server for the CPU;
/// killed when dropped.
pub struct Hog {
    children: Vec<Child>,
}

impl Hog {
    /// Starts `count` shells spinning in a loop.
    pub fn start(count: usize) -> Self {
        let children = (0..count)
            .map(|_| {
                Command::new("sh")
                    .args(["-c", "while :; do :; done"])
                    .stdin(Stdio::null())
                    .spawn()
                    .expect("a busy shell starts")
            })
            .collect();
        Self { children }
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
