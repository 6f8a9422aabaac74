//! `cargo xtask bench`: being written (scheduler benchmark).
pub fn main(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask bench` is not built yet")
}
