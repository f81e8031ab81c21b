//! Shape conversion between Alpaca, ShareGPT and OpenAI `messages`.
//!
//! - Alpaca → chat: the user turn is `instruction`, or `instruction + "\n" + input` when the
//!   input is non-empty (LLaMA-Factory's convention); `system` becomes a leading system turn.
//! - chat → Alpaca: one exchange maps to `instruction`/`input: ""`/`output`; earlier exchanges
//!   go to LLaMA-Factory's `history` as `[user, assistant]` pairs. Tool turns have no Alpaca
//!   spelling, so such records are refused with a reason.
//!
//! Fields that are not part of the conversation are carried over unchanged.

use gleaner_core::{Record, RecordShape, Role};
use serde_json::{Map, Value, json};

const ALPACA_KEYS: &[&str] = &["instruction", "input", "output", "system"];

fn extras(r: &Record) -> Map<String, Value> {
    let skip: &[&str] = match r.shape {
        RecordShape::Alpaca => ALPACA_KEYS,
        RecordShape::ShareGpt => &["conversations", "system"],
        RecordShape::Messages => &["messages", "system"],
        RecordShape::Prompt(key) => {
            return r
                .fields
                .iter()
                .filter(|(k, _)| k.as_str() != key && !ALPACA_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
    };
    r.fields.iter().filter(|(k, _)| !skip.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Converts a record to another shape, or explains why it cannot be.
pub fn to_shape(r: &Record, shape: RecordShape) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    match shape {
        RecordShape::Prompt(_) => return Err("cannot convert to a prompt-only shape".into()),
        RecordShape::Alpaca => {
            if r.turns.iter().any(|t| !matches!(t.role, Role::User | Role::Assistant)) {
                return Err("cannot write tool or mid-conversation system turns in Alpaca format".into());
            }
            if r.turns.len() == 1 && r.turns[0].role == Role::User {
                // A prompt without a response: an Alpaca record with an empty output.
                out.insert("instruction".into(), Value::String(r.turns[0].content.clone()));
                out.insert("input".into(), Value::String(r.input.clone()));
                out.insert("output".into(), Value::String(String::new()));
                out.extend(extras(r));
                return Ok(out);
            }
            let pairs: Vec<_> = r.turns.chunks(2).collect();
            let ok = pairs.iter().all(|p| p.len() == 2 && p[0].role == Role::User && p[1].role == Role::Assistant);
            if !ok {
                return Err("Alpaca format needs alternating user/assistant turns".into());
            }
            let (last, history) = pairs.split_last().ok_or("empty conversation")?;
            let (instruction, input) = if r.shape == RecordShape::Alpaca {
                (last[0].content.clone(), r.input.clone())
            } else {
                (last[0].content.clone(), String::new())
            };
            out.insert("instruction".into(), Value::String(instruction));
            out.insert("input".into(), Value::String(input));
            out.insert("output".into(), Value::String(last[1].content.clone()));
            if let Some(s) = &r.system {
                out.insert("system".into(), Value::String(s.clone()));
            }
            if !history.is_empty() {
                let h: Vec<Value> = history.iter().map(|p| json!([p[0].content, p[1].content])).collect();
                out.insert("history".into(), Value::Array(h));
            }
        }
        RecordShape::ShareGpt | RecordShape::Messages => {
            let (key, rk, tk) = if shape == RecordShape::ShareGpt {
                ("conversations", "from", "value")
            } else {
                ("messages", "role", "content")
            };
            let name = |role: Role| {
                if shape == RecordShape::ShareGpt { role.sharegpt_name() } else { role.openai_name() }
            };
            let mut list = Vec::new();
            if let Some(s) = &r.system {
                list.push(json!({rk: name(Role::System), tk: s}));
            }
            for (k, t) in r.turns.iter().enumerate() {
                let content = if k == 0 && !r.input.is_empty() {
                    format!("{}\n{}", t.content, r.input)
                } else {
                    t.content.clone()
                };
                list.push(json!({rk: name(t.role), tk: content}));
            }
            out.insert(key.into(), Value::Array(list));
        }
    }
    out.extend(extras(r));
    Ok(out)
}
