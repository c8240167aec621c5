//! A node driven only through the bindings, as a phone app drives it: opens a data directory,
//! starts networking on the LAN and runs until killed. The LAN tests run two of these in network
//! namespaces to show that a phone finds and syncs with its neighbours by itself.

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let dir = std::env::args().nth(1).context("usage: meadow-ffi-node DATA_DIR")?;
    let node = meadow_ffi::MeadowNode::open(dir).context("opening the node")?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("runtime")?;
    let status = rt.block_on(node.start_networking(0, true)).context("starting networking")?;
    println!("running: {}", status.running);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
