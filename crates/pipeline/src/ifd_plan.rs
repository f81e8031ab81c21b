//! Which tokens each IFD pass scores (docs/methods.md §2.4, §3.2, §3.6): the token ids of every forward
//! pass and the position its loss starts at, exactly as the reference scripts compute them.
//!
//! Two families of templates:
//! - **Superfiltering** (`none`): the direct pass is the response alone, truncated at
//!   `max_length − L_Q + 1`, every token but the first scored; the conditioned pass is the span
//!   pass on `prompt ‖ output`.
//! - **Cherry** (`alpaca`, `wiz`, `vicuna`, and `chatml` for instruct models): the direct pass
//!   is the span pass on `prefix ‖ output` (prefix `### Response:`, `ASSISTANT:` or
//!   `<|im_start|>assistant\n`) truncated at `max_length − L_Q + prompt_specific_len`
//!   (4 for alpaca/wiz, 6 for vicuna as in the reference; for chatml the token count of the
//!   prefix); a sample is skipped when `max_length − L_Q ≤ 0`, when either pass has no response
//!   token, or when `L_Q + len_direct > max_length`.
//!
//! The span start of a pass is the token count of the text before the **last** occurrence of
//! the span (a character search from the right), tokenised without truncation (BOS included
//! where the tokenizer adds one).

use gleaner_core::layout::{REVERSE_HEAD, REVERSE_TAIL, Template};
use gleaner_core::{Record, Result};
use gleaner_lm::LmTokenizer;

/// One forward pass: its tokens and the first scored position (`from ≥ 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    /// Token ids, truncated.
    pub ids: Vec<u32>,
    /// First scored token (token `j` is predicted from position `j − 1`).
    pub from: usize,
}

impl Pass {
    /// Number of scored tokens.
    pub fn scored(&self) -> usize {
        self.ids.len().saturating_sub(self.from)
    }
}

/// The passes of one assistant turn; `None` = skipped (the score is NaN).
#[derive(Debug, Clone, Default)]
pub struct TurnPlan {
    /// Response given only the direct prefix (or alone).
    pub direct: Option<Pass>,
    /// Response given the prompt.
    pub cond: Option<Pass>,
    /// Reversed IFD: the instruction alone.
    pub q_direct: Option<Pass>,
    /// Reversed IFD: the instruction given the "guess the instruction" prompt with the response.
    pub q_cond: Option<Pass>,
}

/// Tokenisation helpers bound to one tokenizer.
pub struct Planner<'a> {
    tok: &'a LmTokenizer,
    template: Template,
    max_length: usize,
    reverse: bool,
}

impl<'a> Planner<'a> {
    /// A planner for `template` and `max_length`; `reverse` adds the reversed-IFD passes.
    pub fn new(tok: &'a LmTokenizer, template: Template, max_length: usize, reverse: bool) -> Planner<'a> {
        Planner { tok, template, max_length, reverse }
    }

    fn count(&self, text: &str) -> Result<usize> {
        Ok(self.tok.encode(text)?.len())
    }

    fn truncated(&self, text: &str, ml: usize) -> Result<Vec<u32>> {
        let mut ids = self.tok.encode(text)?;
        ids.truncate(ml);
        Ok(ids)
    }

    /// Span pass: `text` truncated at `ml`, scored from the token count of the text before the
    /// last occurrence of `span`. `None` when nothing is scored.
    fn span_pass(&self, text: &str, span: &str, ml: usize) -> Result<Option<Pass>> {
        if ml == 0 {
            return Ok(None);
        }
        let ids = self.truncated(text, ml)?;
        let at = text.rfind(span).unwrap_or(text.len());
        let from = self.count(&text[..at])?.max(1);
        let p = Pass { ids, from };
        Ok((p.scored() > 0).then_some(p))
    }

    /// Whole-text pass: `text` truncated at `ml`, every token but the first scored.
    fn whole_pass(&self, text: &str, ml: usize) -> Result<Option<Pass>> {
        if ml == 0 {
            return Ok(None);
        }
        let p = Pass { ids: self.truncated(text, ml)?, from: 1 };
        Ok((p.scored() > 0).then_some(p))
    }

    /// `prompt_specific_len` of Cherry's direct-pass truncation.
    fn prompt_specific_len(&self) -> Result<usize> {
        Ok(match self.template {
            Template::Alpaca | Template::Wiz => 4,
            Template::Vicuna => 6,
            Template::ChatMl | Template::None => self.count(self.template.direct_prefix())?,
        })
    }

    /// The passes of one response given its prompt (`user` is the user text that the
    /// reversed IFD scores: instruction ‖ input).
    pub fn turn(&self, prompt: &str, output: &str, instruction: &str, input: &str) -> Result<TurnPlan> {
        let ml = self.max_length;
        let lq = self.count(prompt)?.min(ml);
        let whole = format!("{prompt}{output}");
        let mut plan = TurnPlan::default();
        if !output.is_empty() {
            match self.template {
                Template::None => {
                    plan.direct = self.whole_pass(output, ml - lq + 1)?;
                    plan.cond = self.span_pass(&whole, output, ml)?;
                }
                _ if ml > lq => {
                    let direct_text = format!("{}{output}", self.template.direct_prefix());
                    let direct = self.span_pass(&direct_text, output, ml - lq + self.prompt_specific_len()?)?;
                    let cond = self.span_pass(&whole, output, ml)?;
                    // Cherry's data_by_IFD.py: skip when L_Q + len_direct > max_length.
                    if let (Some(d), Some(c)) = (direct, cond)
                        && lq + d.scored() <= ml
                    {
                        plan.direct = Some(d);
                        plan.cond = Some(c);
                    }
                }
                _ => {}
            }
        }
        if self.reverse {
            let rev_prompt = self.template.no_input_prompt(&format!("{REVERSE_HEAD}{output}{REVERSE_TAIL}"));
            let user = format!("{instruction}{input}");
            let l_rev = self.count(&rev_prompt)?.min(ml);
            plan.q_direct = self.whole_pass(&user, ml - l_rev + 1)?;
            plan.q_cond = self.span_pass(&format!("{rev_prompt}{user}"), instruction, ml)?;
        }
        Ok(plan)
    }

    /// One plan per assistant turn of `r`, in order (single-turn records: one).
    pub fn record(&self, r: &Record) -> Result<Vec<TurnPlan>> {
        let mut out = Vec::new();
        let mut last_user: Option<usize> = None;
        for (k, t) in r.turns.iter().enumerate() {
            if t.role == gleaner_core::Role::User {
                last_user = Some(k);
            }
            if !t.role.is_model() {
                continue;
            }
            let prompt = self.template.conversation_prompt(r, k);
            let (instruction, input) = match last_user {
                Some(u) => (r.turns[u].content.as_str(), if u == 0 { r.input.as_str() } else { "" }),
                None => ("", ""),
            };
            out.push(self.turn(&prompt, &t.content, instruction, input)?);
        }
        Ok(out)
    }
}
