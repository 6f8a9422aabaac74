//! What `/proc` tells about the processes of a run: the CPU time of the sshd
//! servers (their own and their reaped children's), and the summed resident
//! memory of a tool's whole process tree, sampled while it runs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Clock ticks per second of the `/proc/PID/stat` times (`getconf CLK_TCK`).
const CLK_TCK: f64 = 100.0;
/// How often the tree is sampled: short runs still get several samples.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// The wrappers every run goes through; they are not the tool.
const WRAPPERS: [&str; 2] = ["timeout", "time"];

/// `(comm, utime + stime + cutime + cstime in ticks)` of a process.
fn stat(pid: u32) -> Option<(String, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm is in parentheses and may contain spaces: split after the last ')'
    let (head, rest) = text.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, so index 11
    let ticks = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().ok())
        .sum::<Option<u64>>()?;
    Some((comm, ticks))
}

/// CPU seconds used so far by `pids` and the children they have reaped.
pub fn cpu_with_reaped_children(pids: &[u32]) -> f64 {
    let ticks: u64 = pids.iter().filter_map(|&p| stat(p)).map(|s| s.1).sum();
    ticks as f64 / CLK_TCK
}

/// Direct children of `pid` (over all its threads).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status"))
        .unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// (summed RSS in KiB, number of processes) of the tree under `root`, wrappers excluded.
fn tree(root: u32) -> (u64, usize) {
    let (mut kib, mut count) = (0, 0);
    let mut todo = vec![root];
    // bounded: a process tree has far fewer than this many members here
    let mut budget = 100_000;
    while let Some(pid) = todo.pop() {
        budget -= 1;
        if budget == 0 {
            break;
        }
        todo.extend(children(pid));
        match stat(pid) {
            Some((comm, _)) if !WRAPPERS.contains(&comm.as_str()) => {
                kib += rss_kib(pid);
                count += 1;
            }
            _ => {}
        }
    }
    (kib, count)
}

/// Peak of a process tree while it runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct TreePeak {
    /// Highest sum of the RSS of the tool's processes seen at one instant, KiB.
    pub kib: u64,
    /// Most processes of the tool seen at one instant.
    pub processes: usize,
}

/// Samples the tree under a process until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<TreePeak>,
}

impl Sampler {
    /// Starts sampling the tree under `root` every 10 ms.
    pub fn start(root: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut peak = TreePeak::default();
            while !flag.load(Ordering::Relaxed) {
                let (kib, processes) = tree(root);
                peak.kib = peak.kib.max(kib);
                peak.processes = peak.processes.max(processes);
                std::thread::sleep(SAMPLE_EVERY);
            }
            peak
        });
        Sampler { stop, thread }
    }

    /// Stops and gives the peak seen.
    pub fn finish(self) -> TreePeak {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::{children, cpu_with_reaped_children, stat, tree};

    #[test]
    fn a_child_is_found_with_its_memory_and_our_cpu_is_counted() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let me = std::process::id();
        assert!(children(me).contains(&child.id()));
        let (kib, count) = tree(child.id());
        assert_eq!(count, 1);
        assert!(kib > 0);
        assert_eq!(stat(child.id()).unwrap().0, "sleep");
        child.kill().unwrap();
        child.wait().unwrap();
        // the test binary has used some CPU by now
        let mut spin = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(30) {
            spin = spin.wrapping_add(1);
        }
        assert!(spin > 0 && cpu_with_reaped_children(&[me]) > 0.0);
    }
}
