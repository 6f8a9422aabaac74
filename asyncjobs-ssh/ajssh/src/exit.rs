//! The exit codes of `ajssh`, documented in `--help` (see [`HELP`]).

/// Every host succeeded (every command exited 0, every transfer completed),
/// or a listing (`-L`, `-n`, `scenario dot`) was printed.
pub const OK: u8 = 0;
/// Every host was reached, but some command failed (non-zero exit, killed
/// by a signal, timed out) or a transfer failed; or a scenario run failed.
pub const FAILED: u8 = 1;
/// Some host could not be reached or refused us (DNS, connection refused,
/// connect timeout, unknown or changed host key, authentication refused).
/// Takes precedence over [`FAILED`] when both happen.
pub const UNREACHABLE: u8 = 2;
/// Interrupted by Ctrl-C (SIGINT): running commands were stopped; the
/// summary counts the hosts that did not finish. SIGTERM and SIGHUP do the
/// same and exit 143 and 129 (128 + the signal number, see [`crate::stop`]).
pub const INTERRUPTED: u8 = 130;
/// stdout was closed by its reader (`ajssh ... | head`): the run ended
/// quietly and the remote commands were stopped (128 + SIGPIPE).
pub const CLOSED_STDOUT: u8 = 141;
/// Bad command line, bad target, bad scenario or config file: nothing ran
/// (`EX_USAGE` of sysexits.h).
pub const USAGE: u8 = 64;
/// A local problem stopped the run: an output directory or file that cannot
/// be written, too few file descriptors for the window (`EX_IOERR`).
pub const LOCAL: u8 = 74;

/// The exit-code section of `--help`.
pub const HELP: &str = "\
Exit codes:
  0   every host succeeded (or a listing was printed)
  1   every host was reached but some command or transfer failed
      (or a scenario run failed)
  2   some host was unreachable or refused us (DNS, refused, connect timeout,
      host key, authentication); wins over 1
  64  usage error: bad option, target, scenario or config file; nothing ran
  74  local error: output directory or file not writable, too few file
      descriptors
  129 130 143  stopped by SIGHUP, SIGINT (Ctrl-C) or SIGTERM: the running
      commands were stopped (a second signal exits without waiting)
  141 stdout was closed (`ajssh ... | head`): the run ended quietly and the
      running commands were stopped";

/// The exit code of a fan-out from its tallies.
pub fn for_fanout(failed: usize, unreachable: usize) -> u8 {
    if unreachable > 0 {
        UNREACHABLE
    } else if failed > 0 {
        FAILED
    } else {
        OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_wins_over_failed() {
        assert_eq!(for_fanout(0, 0), OK);
        assert_eq!(for_fanout(3, 0), FAILED);
        assert_eq!(for_fanout(0, 1), UNREACHABLE);
        assert_eq!(for_fanout(3, 1), UNREACHABLE);
    }

    #[test]
    fn codes_are_distinct_and_documented() {
        let codes = [
            OK,
            FAILED,
            UNREACHABLE,
            USAGE,
            LOCAL,
            INTERRUPTED,
            CLOSED_STDOUT,
        ];
        for (i, a) in codes.iter().enumerate() {
            assert!(codes[i + 1..].iter().all(|b| a != b));
            assert!(
                HELP.contains(&format!("\n  {a:<3} ")) || HELP.contains(&format!(" {a} ")),
                "code {a} missing from HELP"
            );
        }
    }
}
