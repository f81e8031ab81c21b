//! Record shape detection (Alpaca, ShareGPT, OpenAI `messages`, prompt-only) and conversion
//! between the shapes, on arbitrary JSON. The first byte picks a forced shape and whether the
//! file is a prompt set; the rest is the JSON value. A record that reads must convert to every
//! shape it can be written in, or give a reason; a converted record must read back, and a
//! chat record converted to the other chat shape keeps its system prompt and turns.
#![no_main]
use gleaner_core::RecordShape;
use gleaner_read::record_from_value;
use gleaner_write::convert::to_shape;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, json)) = data.split_first() else { return };
    let forced = match mode % 4 {
        0 => None,
        1 => Some(RecordShape::Alpaca),
        2 => Some(RecordShape::ShareGpt),
        _ => Some(RecordShape::Messages),
    };
    let prompt_only = mode & 4 != 0;
    let fixed = gleaner_core::nonfinite::rewrite_literals(json);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&fixed) else { return };
    let Ok(record) = record_from_value(value, forced, prompt_only) else { return };
    let chat = |s: RecordShape| matches!(s, RecordShape::ShareGpt | RecordShape::Messages);
    for shape in [RecordShape::Alpaca, RecordShape::ShareGpt, RecordShape::Messages] {
        let Ok(obj) = to_shape(&record, shape) else { continue };
        let back = record_from_value(serde_json::Value::Object(obj.clone()), None, false)
            .unwrap_or_else(|e| panic!("{:?} converted to {shape:?} does not read back: {e}\n{obj:?}", record.shape));
        assert_eq!(back.shape, shape, "converted to {shape:?} but reads as {:?}: {obj:?}", back.shape);
        if chat(record.shape) && chat(shape) {
            assert_eq!(
                (&back.system, &back.turns),
                (&record.system, &record.turns),
                "chat conversion changed the conversation"
            );
        }
    }
});
