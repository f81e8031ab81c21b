//! `stage = "dedup"`: runs [`crate::dedup::dedup`] on the rows in play and drops the
//! duplicates and contaminated rows, each with its reason.

use super::State;
use crate::dedup::{DedupInputs, DedupSettings};
use crate::recipe::{Dedup, DedupMethod};
use gleaner_core::Result;

pub(super) fn dedup(st: &mut State<'_>, d: &Dedup) -> Result<()> {
    let settings = DedupSettings::of(d)?;
    let scores = match &settings.keep {
        gleaner_dedup::Keep::Score(c) => Some(st.gather(c)?),
        _ => None,
    };
    // semantic: reuse the last embed stage's embeddings unless a model is named
    let embeddings = if d.method == DedupMethod::Semantic && d.model.is_none() && st.emb.is_some() {
        let (m, identity) = st.active_embeddings()?;
        st.obs.info(&format!("dedup: reusing the embeddings of the embed stage ({identity})"));
        Some(m)
    } else {
        None
    };
    let view = st.view()?;
    let (rows, summary) = crate::dedup::dedup(
        &view,
        DedupInputs { settings: &settings, scores, embeddings, against: &d.against },
        st.work,
        st.obs,
    )?;
    drop(view);
    // the input rows dropped for each reason, in the order the reasons first occur
    let mut gone: indexmap::IndexMap<String, Vec<usize>> = indexmap::IndexMap::new();
    let mut keep = Vec::with_capacity(st.active.len());
    for (&r, o) in st.active.iter().zip(&rows) {
        match &o.dropped {
            Some(why) => gone.entry(why.clone()).or_default().push(r),
            None => keep.push(r),
        }
    }
    st.active = keep;
    for (why, rows) in gone {
        st.drop_rows(format!("dedup: {why}"), &rows);
    }
    st.dedup.push(summary);
    Ok(())
}
