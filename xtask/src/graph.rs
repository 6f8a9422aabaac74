//! `cargo xtask graph`: being written (asyncjobs-graph issue).
pub fn main(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask graph` is not built yet")
}
