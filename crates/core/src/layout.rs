//! The exact text each method embeds or scores (docs/methods.md §1.3, §1.6, §2.2, §3.2, §3.5,
//! §4.2).
//!
//! Multi-turn records: the single-turn strings are built from the first exchange (first user
//! turn, its Alpaca input, first assistant turn), and every later turn is appended in order,
//! each on a new line. Single-turn records give the reference strings exactly.

use crate::record::{Record, Role};

fn later_turns(r: &Record) -> String {
    // Turns after the first assistant reply (which the single-turn string already holds).
    let first_user = r.turns.iter().position(|t| t.role == Role::User);
    let first_reply =
        first_user.and_then(|u| r.turns[u + 1..].iter().position(|t| t.role.is_model()).map(|p| u + 1 + p));
    let from = first_reply.map_or(r.turns.len(), |p| p + 1);
    let mut s = String::new();
    for t in &r.turns[from..] {
        s.push('\n');
        s.push_str(&t.content);
    }
    s
}

/// CaR's IQS input and clustering text:
/// `"Instruction: " ‖ I ‖ " Input: " ‖ X ‖ " Response: " ‖ O`, with " Input: " always present.
pub fn car_text(r: &Record) -> String {
    let mut s = format!("Instruction: {} Input: {} Response: {}", r.instruction(), r.input, r.output());
    s.push_str(&later_turns(r));
    s
}

/// LCG's clustering and classifier text: `X ‖ " " ‖ I` (the output is not used). Multi-turn
/// records append their later *user* turns.
pub fn lcg_text(r: &Record) -> String {
    let mut s = format!("{} {}", r.input, r.instruction());
    let mut users = r.turns.iter().filter(|t| t.role == Role::User).skip(1);
    for t in &mut users {
        s.push('\n');
        s.push_str(&t.content);
    }
    s
}

/// Which part of a record Superfiltering.D embeds (`--emb_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlPart {
    /// `I ‖ "\n" ‖ X ‖ "\n" ‖ O`.
    Whole,
    /// `I ‖ "\n" ‖ X ‖ "\n"`.
    Instruction,
    /// `O`.
    Response,
}

/// Superfiltering.D's embedding text (the input part is always included, even when empty).
pub fn fl_text(r: &Record, part: FlPart) -> String {
    match part {
        FlPart::Whole => format!("{}\n{}\n{}{}", r.instruction(), r.input, r.output(), later_turns(r)),
        FlPart::Instruction => format!("{}\n{}\n", r.instruction(), r.input),
        FlPart::Response => r.output().to_string(),
    }
}

/// Every turn joined in order with newlines (system first): a generic text for embedding.
pub fn conversation_text(r: &Record) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(s) = &r.system {
        parts.push(s);
    }
    let mut out = parts.join("\n");
    for (k, t) in r.turns.iter().enumerate() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&t.content);
        if k == 0 && !r.input.is_empty() {
            out.push('\n');
            out.push_str(&r.input);
        }
    }
    out
}

/// Which text of a record a stage embeds (`--text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextKind {
    /// CaR: `"Instruction: " ‖ I ‖ " Input: " ‖ X ‖ " Response: " ‖ O`.
    Car,
    /// LCG: `X ‖ " " ‖ I`.
    Lcg,
    /// Superfiltering.D: `I\nX\nO` (or the instruction / response part).
    Fl(FlPart),
    /// All turns joined with newlines.
    Conversation,
    /// A template with `{instruction}`, `{input}`, `{output}`, `{system}`, `{conversation}`.
    Custom(String),
}

impl TextKind {
    /// Parses `car|lcg|fl|fl-instruction|fl-response|conversation`, or a template containing
    /// a `{…}` placeholder.
    pub fn parse(s: &str) -> Option<TextKind> {
        Some(match s {
            "car" => TextKind::Car,
            "lcg" => TextKind::Lcg,
            "fl" | "superfilter" => TextKind::Fl(FlPart::Whole),
            "fl-instruction" => TextKind::Fl(FlPart::Instruction),
            "fl-response" => TextKind::Fl(FlPart::Response),
            "conversation" => TextKind::Conversation,
            t if t.contains('{') && t.contains('}') => TextKind::Custom(t.to_string()),
            _ => return None,
        })
    }

    /// A stable name for manifests.
    pub fn name(&self) -> String {
        match self {
            TextKind::Car => "car".into(),
            TextKind::Lcg => "lcg".into(),
            TextKind::Fl(FlPart::Whole) => "fl".into(),
            TextKind::Fl(FlPart::Instruction) => "fl-instruction".into(),
            TextKind::Fl(FlPart::Response) => "fl-response".into(),
            TextKind::Conversation => "conversation".into(),
            TextKind::Custom(t) => format!("custom:{t}"),
        }
    }

    /// The text of one record.
    pub fn render(&self, r: &Record) -> String {
        match self {
            TextKind::Car => car_text(r),
            TextKind::Lcg => lcg_text(r),
            TextKind::Fl(p) => fl_text(r, *p),
            TextKind::Conversation => conversation_text(r),
            TextKind::Custom(t) => custom_text(r, t),
        }
    }
}

/// Renders a user template with `{instruction}`, `{input}`, `{output}`, `{system}` and
/// `{conversation}` placeholders (the `--text` option).
pub fn custom_text(r: &Record, template: &str) -> String {
    template
        .replace("{instruction}", r.instruction())
        .replace("{input}", &r.input)
        .replace("{output}", r.output())
        .replace("{system}", r.system.as_deref().unwrap_or(""))
        .replace("{conversation}", &conversation_text(r))
}

/// The Alpaca prompt with input (docs/methods.md §2.2), verbatim.
pub const ALPACA_WITH_INPUT: &str = "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:";
/// The Alpaca prompt without input (docs/methods.md §2.2), verbatim.
pub const ALPACA_NO_INPUT: &str = "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:";
/// Vicuna prompt with input (docs/methods.md §2.2, `_vic` scripts).
pub const VICUNA_WITH_INPUT: &str = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: {instruction}\nInput:\n{input} ASSISTANT:";
/// Vicuna prompt without input.
pub const VICUNA_NO_INPUT: &str = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: {instruction} ASSISTANT:";
/// The reversed-IFD instruction wrapper (docs/methods.md §3.6), before the response.
pub const REVERSE_HEAD: &str =
    "Below is the response to an instruction, please guess the corresponding instruction for the given response.\n";
/// The reversed-IFD instruction wrapper, after the response.
pub const REVERSE_TAIL: &str = "\nGenerate the instruction for the above response.";

/// A prompt template for causal-LM scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Superfiltering: `I\nX\n` (or `I\n`) then the output; the direct text is the output alone.
    None,
    /// Cherry's Alpaca prompt; direct prefix `### Response:`.
    Alpaca,
    /// Cherry's WizardLM prompt (`_vic` form): `I\nX\n\n### Response:`; direct `### Response:`.
    Wiz,
    /// Cherry's Vicuna prompt; direct prefix `ASSISTANT:`.
    Vicuna,
    /// ChatML, the instruct models' own format; direct prefix `<|im_start|>assistant\n`.
    ChatMl,
}

impl Template {
    /// Parses `none|alpaca|wiz|vicuna|chatml`.
    pub fn parse(s: &str) -> Option<Template> {
        Some(match s {
            "none" => Template::None,
            "alpaca" => Template::Alpaca,
            "wiz" | "wizardlm" => Template::Wiz,
            "vicuna" => Template::Vicuna,
            "chatml" => Template::ChatMl,
            _ => return None,
        })
    }

    /// The template's name as accepted by [`Template::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Template::None => "none",
            Template::Alpaca => "alpaca",
            Template::Wiz => "wiz",
            Template::Vicuna => "vicuna",
            Template::ChatMl => "chatml",
        }
    }

    /// The default `max_length` of the method that uses this template: 1024 for Superfiltering
    /// (`none`) and for instruct models (`chatml`), 512 for Cherry's scripts (the others).
    pub fn default_max_length(self) -> usize {
        match self {
            Template::None | Template::ChatMl => 1024,
            _ => 512,
        }
    }

    /// The prompt for one instruction and input (the text before the response).
    pub fn prompt(self, system: Option<&str>, instruction: &str, input: &str) -> String {
        match self {
            Template::None => {
                if input.is_empty() {
                    format!("{instruction}\n")
                } else {
                    format!("{instruction}\n{input}\n")
                }
            }
            Template::Alpaca => {
                fill(if input.is_empty() { ALPACA_NO_INPUT } else { ALPACA_WITH_INPUT }, instruction, input)
            }
            Template::Wiz => {
                if input.is_empty() {
                    format!("{instruction}\n\n### Response:")
                } else {
                    format!("{instruction}\n{input}\n\n### Response:")
                }
            }
            Template::Vicuna => {
                fill(if input.is_empty() { VICUNA_NO_INPUT } else { VICUNA_WITH_INPUT }, instruction, input)
            }
            Template::ChatMl => {
                let mut s = String::new();
                if let Some(sys) = system {
                    s.push_str(&format!("<|im_start|>system\n{sys}<|im_end|>\n"));
                }
                let user = if input.is_empty() { instruction.to_string() } else { format!("{instruction}\n{input}") };
                s.push_str(&format!("<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"));
                s
            }
        }
    }

    /// The no-input prompt with `{instruction}` replaced verbatim (used by reversed IFD, which
    /// always takes the no-input form, docs/methods.md §3.6).
    pub fn no_input_prompt(self, instruction: &str) -> String {
        self.prompt(None, instruction, "")
    }

    /// The text that precedes the response in the direct (unconditioned) pass.
    pub fn direct_prefix(self) -> &'static str {
        match self {
            Template::None => "",
            Template::Alpaca | Template::Wiz => "### Response:",
            Template::Vicuna => "ASSISTANT:",
            Template::ChatMl => "<|im_start|>assistant\n",
        }
    }

    /// The multi-turn prompt for the assistant turn at `turn_index`: the conversation so far,
    /// rendered in this template.
    pub fn conversation_prompt(self, r: &Record, turn_index: usize) -> String {
        let history = &r.turns[..turn_index];
        match self {
            Template::ChatMl => {
                let mut s = String::new();
                if let Some(sys) = &r.system {
                    s.push_str(&format!("<|im_start|>system\n{sys}<|im_end|>\n"));
                }
                for (k, t) in history.iter().enumerate() {
                    let role = match t.role {
                        Role::User => "user",
                        Role::Assistant | Role::FunctionCall => "assistant",
                        Role::System => "system",
                        Role::Observation => "tool",
                    };
                    let content = if k == 0 && !r.input.is_empty() {
                        format!("{}\n{}", t.content, r.input)
                    } else {
                        t.content.clone()
                    };
                    s.push_str(&format!("<|im_start|>{role}\n{content}<|im_end|>\n"));
                }
                s.push_str("<|im_start|>assistant\n");
                s
            }
            _ => {
                // Earlier turns are joined with newlines and fill the template's instruction
                // slot; the Alpaca input rides with the first turn as usual.
                let joined: Vec<&str> = history.iter().map(|t| t.content.as_str()).collect();
                let instruction = joined.join("\n");
                self.prompt(r.system.as_deref(), &instruction, &r.input)
            }
        }
    }
}

fn fill(t: &str, instruction: &str, input: &str) -> String {
    // Replace {instruction} first, then {input} only in the template part, so braces in the
    // instruction are never re-interpreted.
    let (head, tail) = t.split_once("{instruction}").expect("template has {instruction}");
    let tail = tail.replace("{input}", input);
    format!("{head}{instruction}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn car_text_always_has_input_marker() {
        let r = Record::alpaca("Do it", "", "Done");
        assert_eq!(car_text(&r), "Instruction: Do it Input:  Response: Done");
        assert_eq!(lcg_text(&r), " Do it");
        assert_eq!(fl_text(&r, FlPart::Whole), "Do it\n\nDone");
    }

    #[test]
    fn alpaca_prompts_match_spec() {
        let p = Template::Alpaca.prompt(None, "Add {input}", "2+2");
        assert!(p.starts_with("Below is an instruction that describes a task, paired"));
        assert!(p.contains("### Instruction:\nAdd {input}\n\n### Input:\n2+2\n\n### Response:"));
        assert_eq!(Template::None.prompt(None, "I", ""), "I\n");
        assert_eq!(Template::None.prompt(None, "I", "X"), "I\nX\n");
    }
}
