//! `ajssh`: run commands on many hosts over SSH, and run scenario files.

fn main() {
    eprintln!("ajssh: under construction");
    std::process::exit(70);
}
