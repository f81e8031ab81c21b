//! `gleaner recipes` and `gleaner recipes show NAME`.

use crate::cli::{RecipesArgs, RecipesCommand};
use anyhow::{Result, anyhow};
use gleaner_pipeline::recipe;

pub fn run(a: RecipesArgs) -> Result<()> {
    match a.command.unwrap_or(RecipesCommand::List) {
        RecipesCommand::List => {
            let all = recipe::bundled();
            let width = all.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for r in &all {
                println!("{:<width$}  {}", r.name, summary_line(&r.description, 96));
            }
            crate::log::info(
                "`gleaner recipes show NAME` prints one as TOML; `gleaner run --recipe NAME|FILE.toml IN -o OUT` runs it",
            );
            Ok(())
        }
        RecipesCommand::Show { name } => {
            let r = recipe::find(&name)
                .ok_or_else(|| anyhow!("no bundled recipe `{name}` (`gleaner recipes` lists them)"))?;
            print!("{}", recipe::to_toml(&r));
            Ok(())
        }
    }
}

/// The description cut at a word boundary to about `max` characters.
fn summary_line(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.trim_end_matches([',', ';', ':']).to_string() + " …"
}
