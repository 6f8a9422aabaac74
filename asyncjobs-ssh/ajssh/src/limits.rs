//! File descriptors: each host in flight holds a socket (two with a
//! gateway tunnel, plus files with `-d`), so the soft `RLIMIT_NOFILE` is
//! raised to the hard limit at start-up, and a window that cannot fit is
//! reported before anything runs.

/// Descriptors kept for stdin/stdout/stderr, the runtime, config and key files.
pub const RESERVED: u64 = 64;

/// The soft and hard limits on open files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFile {
    /// Current (soft) limit.
    pub soft: u64,
    /// Ceiling (hard limit).
    pub hard: u64,
}

/// Raises the soft limit to the hard one; returns the limits now in force.
pub fn raise_nofile() -> std::io::Result<NoFile> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct we pass.
    #[allow(unsafe_code)]
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    Ok(NoFile {
        soft: lim.rlim_cur,
        hard: lim.rlim_max,
    })
}

/// Descriptors a window of `window` hosts needs: per host its socket, one
/// more per gateway hop, two output files with `-d`.
pub fn needed(window: usize, per_host: u64) -> u64 {
    RESERVED + window as u64 * per_host
}

/// The largest window that fits in `limit`, at `per_host` descriptors each.
pub fn max_window(limit: u64, per_host: u64) -> usize {
    usize::try_from(limit.saturating_sub(RESERVED) / per_host.max(1)).unwrap_or(usize::MAX)
}

/// An error text when `window` does not fit in the soft limit, else `None`.
pub fn check_window(window: usize, per_host: u64, nofile: NoFile) -> Option<String> {
    let need = needed(window, per_host);
    (need > nofile.soft).then(|| {
        format!(
            "a window of {window} hosts needs about {need} file descriptors ({per_host} per host + {RESERVED}), \
             but the limit is {} (hard limit {}): use -f {} or less, or raise the hard limit (ulimit -Hn)",
            nofile.soft,
            nofile.hard,
            max_window(nofile.soft, per_host).max(1)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_is_raised_to_the_hard_limit() {
        let l = raise_nofile().unwrap();
        assert_eq!(l.soft, l.hard);
        assert_eq!(raise_nofile().unwrap(), l);
    }

    #[test]
    fn a_window_too_large_is_explained_with_the_largest_that_fits() {
        let lim = NoFile {
            soft: 1024,
            hard: 1024,
        };
        assert_eq!(check_window(32, 2, lim), None);
        let e = check_window(1000, 2, lim).unwrap();
        assert!(e.contains("needs about 2064 file descriptors"), "{e}");
        assert!(e.contains("use -f 480 or less"), "{e}");
    }
}
