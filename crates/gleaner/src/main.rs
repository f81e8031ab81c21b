//! The `gleaner` command. A thin layer: it parses arguments, calls the library crates, and
//! turns errors into `error:` + `hint:` lines. It is the only crate that uses `anyhow`.

mod cli;
mod cmd;
mod log;

use clap::Parser;

// Allocation-heavy forwards are ~1.5x faster with mimalloc than glibc malloc (docs/stack.md §3).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    log::init();
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let hint = e.downcast_ref::<gleaner_core::Error>().and_then(log::hint);
            let msg = format!("{e:#}");
            log::error(&msg, hint.as_deref());
            ExitCode::from(1)
        }
    }
}
