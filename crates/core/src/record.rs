//! One instruction-tuning example: an optional system prompt plus ordered turns, with every
//! original field kept.

use serde_json::{Map, Value};

/// Who speaks a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A system prompt appearing as a turn (ShareGPT `system`).
    System,
    /// The user (`human`, `user`).
    User,
    /// The model (`gpt`, `assistant`, `model`, `chatgpt`, `bard`).
    Assistant,
    /// A model-issued tool call (LLaMA-Factory's `function_call`).
    FunctionCall,
    /// A tool result fed back to the model (`observation`, `tool`, `function`).
    Observation,
}

impl Role {
    /// Parses a ShareGPT `from` or OpenAI `role` value; `None` for an unknown role.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "system" => Role::System,
            "human" | "user" => Role::User,
            "gpt" | "assistant" | "model" | "chatgpt" | "bard" => Role::Assistant,
            "function_call" => Role::FunctionCall,
            "observation" | "tool" | "function" => Role::Observation,
            _ => return None,
        })
    }

    /// The ShareGPT (`from`) spelling.
    pub fn sharegpt_name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "human",
            Role::Assistant => "gpt",
            Role::FunctionCall => "function_call",
            Role::Observation => "observation",
        }
    }

    /// The OpenAI (`role`) spelling.
    pub fn openai_name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::FunctionCall => "function_call",
            Role::Observation => "tool",
        }
    }

    /// True for turns the model produces (scored as responses).
    pub fn is_model(self) -> bool {
        matches!(self, Role::Assistant)
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

/// How the record was laid out in its source, which decides how it is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordShape {
    /// `instruction`, `input`, `output` (+ optional `system`).
    Alpaca,
    /// `conversations: [{from, value}]`.
    ShareGpt,
    /// `messages: [{role, content}]` (OpenAI style).
    Messages,
    /// A prompt with no response (evaluation sets, LCG's pseudo-label file): one user turn
    /// taken from the field named here.
    Prompt(&'static str),
}

/// One example. Single-turn Alpaca records have exactly a user and an assistant turn; the
/// Alpaca `input` rides beside the user turn in [`Record::input`].
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// How the record looked in its source.
    pub shape: RecordShape,
    /// The system prompt (Alpaca `system` field or a leading ShareGPT system turn).
    pub system: Option<String>,
    /// Alpaca's `input` (context for the instruction); empty for chat-shaped records.
    pub input: String,
    /// The turns, in order. A leading system turn is moved to [`Record::system`].
    pub turns: Vec<Turn>,
    /// The original JSON object, every field verbatim, in source order.
    pub fields: Map<String, Value>,
}

impl Record {
    /// A plain Alpaca record (used by tests and converters).
    pub fn alpaca(instruction: &str, input: &str, output: &str) -> Record {
        let mut fields = Map::new();
        fields.insert("instruction".into(), Value::String(instruction.into()));
        fields.insert("input".into(), Value::String(input.into()));
        fields.insert("output".into(), Value::String(output.into()));
        Record {
            shape: RecordShape::Alpaca,
            system: None,
            input: input.into(),
            turns: vec![
                Turn { role: Role::User, content: instruction.into() },
                Turn { role: Role::Assistant, content: output.into() },
            ],
            fields,
        }
    }

    /// The first user turn's text (Alpaca `instruction`), or "" if there is none.
    pub fn instruction(&self) -> &str {
        self.turns.iter().find(|t| t.role == Role::User).map_or("", |t| t.content.as_str())
    }

    /// The first assistant turn after the first user turn (Alpaca `output`), or "".
    pub fn output(&self) -> &str {
        let first_user = self.turns.iter().position(|t| t.role == Role::User);
        let start = first_user.map_or(0, |p| p + 1);
        self.turns[start.min(self.turns.len())..].iter().find(|t| t.role.is_model()).map_or("", |t| t.content.as_str())
    }

    /// True when the record is one user turn answered by one assistant turn.
    pub fn is_single_turn(&self) -> bool {
        self.turns.len() == 2 && self.turns[0].role == Role::User && self.turns[1].role.is_model()
    }

    /// Number of assistant turns (the turns IFD scores).
    pub fn model_turns(&self) -> usize {
        self.turns.iter().filter(|t| t.role.is_model()).count()
    }

    /// Total characters of text (system, input and all turns).
    pub fn text_chars(&self) -> usize {
        self.system.as_ref().map_or(0, |s| s.chars().count())
            + self.input.chars().count()
            + self.turns.iter().map(|t| t.content.chars().count()).sum::<usize>()
    }
}
