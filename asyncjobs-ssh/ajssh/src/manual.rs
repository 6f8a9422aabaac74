//! `ajssh man` and `ajssh completions SHELL`: the manual page and the shell
//! completion scripts, generated from the clap definition of [`Cli`] (so
//! they cannot drift from the options).

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Cli, Completions};
use crate::exit;
use crate::fanout::Fail;

/// Writes the roff manual page of `ajssh` to `out`.
pub fn write_man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

/// Writes the completion script of `shell` to `out`.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "ajssh", out);
}

/// The exit code of a write to stdout: a reader that went away (`ajssh
/// man | head`) ends the output quietly, as `yes | head` does.
fn written(r: std::io::Result<()>) -> Result<u8, Fail> {
    match r {
        Ok(()) => Ok(exit::OK),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(exit::CLOSED_STDOUT),
        Err(e) => Err(Fail::local(e)),
    }
}

/// `ajssh man`.
pub fn man() -> Result<u8, Fail> {
    let mut page = Vec::new();
    write_man(&mut page).map_err(Fail::local)?;
    let mut out = std::io::stdout().lock();
    written(out.write_all(&page).and_then(|()| out.flush()))
}

/// `ajssh completions SHELL`.
pub fn completions(c: &Completions) -> Result<u8, Fail> {
    let mut buf = Vec::new();
    write_completions(c.shell, &mut buf);
    let mut out = std::io::stdout().lock();
    written(out.write_all(&buf).and_then(|()| out.flush()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_man_page_documents_the_options_and_the_target_syntax() {
        let mut page = Vec::new();
        write_man(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..200]);
        assert!(page.contains(".TH ajssh 1"), "{page}");
        assert!(page.contains("fanout") && page.contains("\\-w"), "{page}");
        assert!(page.contains("node[01\\-20,35]"), "{page}");
    }
}
