//! The machine a benchmark ran on, as BENCHMARKS.md records it.

use std::process::Command;

/// One line per fact: cores, CPU, memory, kernel, rustc, date.
pub fn describe() -> Vec<(&'static str, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = field(&meminfo, "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    vec![
        ("cores (nproc)", output("nproc", &[])),
        ("CPU", cpu),
        ("memory", memory),
        ("kernel", output("uname", &["-sr"])),
        ("rustc", output("rustc", &["--version"])),
        ("date", output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])),
    ]
}

/// The 1-minute load average: how busy the machine was with other work.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "unknown".into())
}

fn field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// A command's trimmed stdout, or why there is none.
pub fn output(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => format!("unknown (`{program}` exited with {})", o.status),
        Err(e) => format!("unknown (`{program}`: {e})"),
    }
}
