//! `stage = "select"`: the selection rules of `gleaner_select` over the rows in play.

use super::State;
use super::model_stages::nearest_per_cluster;
use crate::recipe::{Order, RatioOf, Select, Ties};
use gleaner_core::Result;
use gleaner_select::{Budget, CarOptions, LcgOptions, Pick, PreExperienceOptions, TopKOptions};

fn size(budget: Option<usize>, ratio: Option<f64>, base: usize) -> usize {
    match (budget, ratio) {
        (Some(n), _) => n,
        (None, Some(r)) => Budget::Ratio(r).resolve(base),
        (None, None) => base,
    }
}

/// Runs the rule; the rows in play that it does not keep are dropped with the rule's reason.
pub(super) fn select(st: &mut State<'_>, s: &Select) -> Result<()> {
    let n_in = st.ds.len();
    let active = st.active.clone();
    // picks over positions into `active`, mapped back to input rows below
    let (local, why): (Vec<Pick>, String) = match s {
        Select::TopK(t) => {
            let base = t.base.unwrap_or(match t.ratio_of {
                RatioOf::Input => n_in,
                RatioOf::Remaining => active.len(),
            });
            let n = size(t.budget, t.ratio, base);
            let score = st.cols.get(&t.by).cloned().unwrap_or_default();
            let nan: Vec<usize> = active.iter().copied().filter(|&r| score[r].is_nan()).collect();
            st.drop_rows(format!("{} not computable (NaN)", t.by), &nan);
            let opts = TopKOptions {
                n,
                ascending: t.ascending,
                input_order: t.order == Order::Input,
                later_first: t.ties == Ties::Last,
            };
            // top_k works on input rows directly
            let picks = gleaner_select::top_k(&active, &score, &opts);
            let outside = not_picked(&active, &picks, |r| !score[r].is_nan());
            st.drop_rows(format!("outside the budget ({n} by {})", t.by), &outside);
            st.picks = Some(picks);
            return Ok(());
        }
        Select::Car(c) => {
            let q = st.gather(&c.by)?;
            let labels: Vec<String> = st.gather("cluster")?.iter().map(|&l| format!("{}", l as i64)).collect();
            let n1 = c.ratio.map_or(c.n1, |r| Budget::Ratio(r).resolve(n_in));
            (
                gleaner_select::car(&q, &labels, &CarOptions { n1, n2: c.n2 }),
                "not in the top n1 nor a cluster's best".into(),
            )
        }
        Select::FacilityLocation(f) => {
            let (emb, _) = st.active_embeddings()?;
            let n_fl = size(f.budget, f.ratio, n_in).min(active.len());
            let picks = if n_fl == 0 {
                Vec::new()
            } else {
                let params = gleaner_cluster::FacilityParams::new(n_fl);
                gleaner_cluster::facility_location(&emb.data, active.len(), emb.dim, &params)?.picks
            };
            let picks =
                picks.into_iter().map(|index| Pick { index, reason: gleaner_select::Reason::Diversity }).collect();
            (picks, "not picked by facility location".into())
        }
        Select::Lcg(l) => {
            let (labels, nearest) = nearest_per_cluster(st)?;
            let confidence = st.gather("confidence")?;
            let opts = LcgOptions {
                budget: size(l.budget, l.ratio, n_in),
                seeds_per_cluster: l.seeds,
                per_cluster_quota: l.per_cluster_quota,
            };
            (gleaner_select::lcg(&nearest, &confidence, &labels, &opts), "not low-confidence enough (budget)".into())
        }
        Select::PreExperience(p) => {
            let labels: Vec<u32> = st.gather("cluster")?.iter().map(|&l| l as u32).collect();
            let ppl = st.gather(&p.by)?;
            let opts = PreExperienceOptions { per_cluster: p.per_cluster, low: p.low, up: p.up };
            (gleaner_select::pre_experience(&labels, &ppl, st.k, &opts), "outside the per-cluster sample".into())
        }
    };
    let picks: Vec<Pick> = local.into_iter().map(|p| Pick { index: active[p.index], reason: p.reason }).collect();
    let rest = not_picked(&active, &picks, |_| true);
    st.drop_rows(why, &rest);
    st.picks = Some(picks);
    Ok(())
}

/// The rows of `active` that pass `eligible` and are not among `picks`, in their order.
fn not_picked(active: &[usize], picks: &[Pick], eligible: impl Fn(usize) -> bool) -> Vec<usize> {
    let kept: std::collections::HashSet<usize> = picks.iter().map(|p| p.index).collect();
    active.iter().copied().filter(|&r| eligible(r) && !kept.contains(&r)).collect()
}
