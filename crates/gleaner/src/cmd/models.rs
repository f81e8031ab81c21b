//! `gleaner models fetch|list`.

use crate::cli::ModelsCommand;
use anyhow::{Result, bail};
use gleaner_models::{DEFAULTS, FetchOutcome, fetch, installed, models_dir};

pub fn run(m: ModelsCommand) -> Result<()> {
    match m {
        ModelsCommand::Fetch { names } => {
            let wanted: Vec<_> = if names.is_empty() {
                DEFAULTS.iter().filter(|d| d.default).collect()
            } else if names.iter().any(|n| n == "all") {
                DEFAULTS.iter().collect()
            } else {
                let mut v = Vec::new();
                for n in &names {
                    match DEFAULTS.iter().find(|d| d.name.eq_ignore_ascii_case(n)) {
                        Some(d) => v.push(d),
                        None => bail!(
                            "unknown model `{n}`; known: {}",
                            DEFAULTS.iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
                        ),
                    }
                }
                v
            };
            for d in wanted {
                match fetch(d, &mut |s| crate::log::info(s))? {
                    FetchOutcome::Present(p) => {
                        crate::log::info(format!("{} already installed at {}", d.name, p.display()))
                    }
                    FetchOutcome::Installed(p) => {
                        crate::log::info(format!("{} installed at {} (SHA-256 verified)", d.name, p.display()))
                    }
                }
            }
            Ok(())
        }
        ModelsCommand::List => {
            println!("model directory: {}", models_dir().display());
            for d in DEFAULTS {
                let state = if installed(d)? { "installed" } else { "not installed" };
                let def = if d.default { "default" } else { "optional" };
                println!("  {:<24} {:<14} {:<9} {}", d.name, state, def, d.role);
            }
            Ok(())
        }
    }
}
