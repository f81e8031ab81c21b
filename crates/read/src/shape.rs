//! From a JSON object to a [`Record`]: shape detection and validation.

use gleaner_core::nonfinite::literal_for;
use gleaner_core::{Record, RecordShape, Role, Turn};
use serde_json::{Map, Value};

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) => match literal_for(s) {
            Some("NaN") => "the number NaN",
            Some("Infinity") => "the number Infinity",
            Some(_) => "the number -Infinity",
            None => "a string",
        },
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The text of a string value; `None` for other values and for a bare `NaN` / `Infinity`
/// literal (held as a sentinel string, see [`gleaner_core::nonfinite`]), which is a number.
fn text_of(v: &Value) -> Option<&String> {
    match v {
        Value::String(s) if literal_for(s).is_none() => Some(s),
        _ => None,
    }
}

fn required_str(o: &Map<String, Value>, key: &str) -> Result<String, String> {
    match o.get(key) {
        None => Err(format!("missing `{key}`")),
        Some(v) => {
            text_of(v).cloned().ok_or_else(|| format!("wrong type: `{key}` must be a string, found {}", kind(v)))
        }
    }
}

fn optional_str(o: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match text_of(v) {
            Some(s) => Ok(Some(s.clone())),
            None => Err(format!("wrong type: `{key}` must be a string, found {}", kind(v))),
        },
    }
}

/// Message content: a string, null (empty), or OpenAI content parts (text parts joined).
fn content_text(v: Option<&Value>, at: &str, key: &str) -> Result<String, String> {
    match v {
        None => Err(format!("missing `{key}` in {at}")),
        Some(Value::Null) => Ok(String::new()),
        Some(v) if text_of(v).is_some() => Ok(text_of(v).cloned().unwrap_or_default()),
        Some(Value::Array(parts)) => {
            let mut s = String::new();
            for p in parts {
                match p.get("text").and_then(text_of) {
                    Some(t) => s.push_str(t),
                    None => match text_of(p) {
                        Some(t) => s.push_str(t),
                        None => continue, // non-text parts (images) carry no text to score
                    },
                }
            }
            Ok(s)
        }
        Some(v) => Err(format!("wrong type: `{key}` in {at} must be a string, found {}", kind(v))),
    }
}

/// Fields that can hold the prompt of a prompt-only record, in order of preference.
pub const PROMPT_KEYS: &[&str] =
    &["instruction", "Instruction", "prompt", "question", "query", "text", "conversations"];

/// True when the object carries a response (Alpaca `output` or a chat list), i.e. it cannot
/// belong to a prompt-only file.
pub fn has_response(v: &Value) -> bool {
    v.get("output").is_some()
        || v.get("conversations").is_some_and(Value::is_array)
        || v.get("messages").is_some_and(Value::is_array)
}

fn prompt_record(fields: Map<String, Value>) -> Result<Record, String> {
    for key in PROMPT_KEYS {
        if let Some(text) = fields.get(*key).and_then(text_of) {
            let input = optional_str(&fields, "input")?.unwrap_or_default();
            let system = optional_str(&fields, "system")?;
            return Ok(Record {
                shape: RecordShape::Prompt(key),
                system,
                input,
                turns: vec![Turn { role: Role::User, content: text.clone() }],
                fields,
            });
        }
    }
    Err(format!("no prompt field: expected one of {}", PROMPT_KEYS.join(", ")))
}

fn detect_shape(o: &Map<String, Value>) -> Option<RecordShape> {
    if o.contains_key("conversations") {
        Some(RecordShape::ShareGpt)
    } else if o.contains_key("messages") {
        Some(RecordShape::Messages)
    } else if o.contains_key("instruction") || o.contains_key("output") {
        Some(RecordShape::Alpaca)
    } else {
        None
    }
}

/// Parses one JSON value into a record, detecting its shape unless `forced`.
/// The error is a one-line reason suitable for a skip count or an error message.
///
/// In a prompt-only file (`prompt_only`: no record of the file has a response), records are
/// read as [`RecordShape::Prompt`] from the first of [`PROMPT_KEYS`] that holds a string.
pub fn record_from_value(v: Value, forced: Option<RecordShape>, prompt_only: bool) -> Result<Record, String> {
    let Value::Object(fields) = v else {
        return Err(format!("wrong type: expected an object, found {}", kind(&v)));
    };
    if prompt_only && forced.is_none() {
        return prompt_record(fields);
    }
    let shape = match (forced, detect_shape(&fields)) {
        (Some(f), _) => f,
        (None, Some(s)) => s,
        (None, None) => {
            let keys: Vec<&str> = fields.keys().map(String::as_str).take(8).collect();
            return Err(format!(
                "unknown record shape: no `instruction`/`output`, `conversations` or `messages` field (fields: {})",
                keys.join(", ")
            ));
        }
    };
    match shape {
        RecordShape::Alpaca => {
            let instruction = required_str(&fields, "instruction")?;
            let output = required_str(&fields, "output")?;
            let input = optional_str(&fields, "input")?.unwrap_or_default();
            let system = optional_str(&fields, "system")?;
            Ok(Record {
                shape,
                system,
                input,
                turns: vec![
                    Turn { role: Role::User, content: instruction },
                    Turn { role: Role::Assistant, content: output },
                ],
                fields,
            })
        }
        RecordShape::Prompt(_) => prompt_record(fields),
        RecordShape::ShareGpt | RecordShape::Messages => {
            let (key, role_key, text_key) = if shape == RecordShape::ShareGpt {
                ("conversations", "from", "value")
            } else {
                ("messages", "role", "content")
            };
            let list = match fields.get(key) {
                Some(Value::Array(a)) => a,
                Some(v) => {
                    return Err(format!("wrong type: `{key}` must be an array, found {}", kind(v)));
                }
                None => return Err(format!("missing `{key}`")),
            };
            let mut turns = Vec::with_capacity(list.len());
            let mut system = optional_str(&fields, "system")?;
            for (k, m) in list.iter().enumerate() {
                let at = format!("{key}[{k}]");
                let Value::Object(m) = m else {
                    return Err(format!("wrong type: {at} must be an object, found {}", kind(m)));
                };
                let role_name = match m.get(role_key) {
                    Some(v) if text_of(v).is_some() => text_of(v).map_or("", String::as_str),
                    Some(v) => {
                        return Err(format!("wrong type: `{role_key}` in {at} must be a string, found {}", kind(v)));
                    }
                    None => return Err(format!("missing `{role_key}` in {at}")),
                };
                let role = Role::parse(role_name).ok_or_else(|| format!("unknown role `{role_name}` in {at}"))?;
                let content = content_text(m.get(text_key), &at, text_key)?;
                if role == Role::System && turns.is_empty() && system.is_none() {
                    system = Some(content);
                } else {
                    turns.push(Turn { role, content });
                }
            }
            if turns.is_empty() {
                return Err(format!("empty conversation: `{key}` has no user or assistant turn"));
            }
            Ok(Record { shape, system, input: String::new(), turns, fields })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alpaca_and_sharegpt_parse() {
        let r = record_from_value(json!({"instruction": "a", "output": "b", "extra": 1}), None, false).unwrap();
        assert_eq!((r.instruction(), r.output(), r.input.as_str()), ("a", "b", ""));
        let s = record_from_value(
            json!({"conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}),
            None,
            false,
        )
        .unwrap();
        assert_eq!(s.system.as_deref(), Some("s"));
        assert_eq!(s.turns.len(), 2);
    }

    #[test]
    fn clear_reasons() {
        let e = record_from_value(json!({"instruction": "a"}), None, false).unwrap_err();
        assert_eq!(e, "missing `output`");
        let e = record_from_value(json!({"instruction": 3, "output": ""}), None, false).unwrap_err();
        assert!(e.contains("must be a string, found a number"), "{e}");
        let e =
            record_from_value(json!({"conversations": [{"from": "narrator", "value": "x"}]}), None, false).unwrap_err();
        assert_eq!(e, "unknown role `narrator` in conversations[0]");
        // a bare NaN / Infinity literal (read as a sentinel) is a number, never text
        let nan = gleaner_core::nonfinite::NAN;
        let e = record_from_value(json!({"instruction": "a", "output": nan}), None, false).unwrap_err();
        assert_eq!(e, "wrong type: `output` must be a string, found the number NaN");
        let inf = gleaner_core::nonfinite::NEG_INF;
        let e = record_from_value(json!({"messages": [{"role": "user", "content": inf}]}), None, false).unwrap_err();
        assert_eq!(e, "wrong type: `content` in messages[0] must be a string, found the number -Infinity");
        assert!(record_from_value(json!({"prompt": nan}), None, true).is_err());
    }
}

#[cfg(test)]
mod prompt_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompt_only_records_take_the_first_prompt_field() {
        let r = record_from_value(json!({"id": 1, "prompt": "p"}), None, true).unwrap();
        assert_eq!((r.shape, r.instruction()), (RecordShape::Prompt("prompt"), "p"));
        let r = record_from_value(json!({"conversations": "lima style"}), None, true).unwrap();
        assert_eq!(r.instruction(), "lima style");
        assert!(record_from_value(json!({"x": 1}), None, true).is_err());
    }
}
