//! Combining the span and influence signals into one [`Attribution`].
//!
//! Each signal is a list of `(contribution, score)`. [`combine`]:
//!
//! 1. clips every score at zero (a non-finite score counts as zero) and sums a contribution's
//!    scores when it is listed more than once;
//! 2. normalizes each signal to sum 1; a signal with nothing positive drops out and the other
//!    takes its whole weight;
//! 3. mixes them: `w = (span_weight · s + influence_weight · i) / (weights of the signals left)`;
//! 4. keeps the `top_k` largest (ties: the smaller id first);
//! 5. renormalizes to integer parts per billion summing to exactly [`BILLION`] by
//!    largest-remainder rounding (floors first, then one part each to the largest fractional
//!    parts, ties in the order of step 4), and drops weights that round to zero.
//!
//! Every step is deterministic, so replicated workers produce identical receipts from identical
//! scores.

use super::{Attribution, ContributionId, BILLION};
use std::collections::BTreeMap;

/// How the signals are mixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CombineParams {
	/// How many contributions an attribution keeps at most (default 8).
	pub top_k: usize,
	/// The span signal's share (default 0.5).
	pub span_weight: f64,
	/// The influence signal's share (default 0.5).
	pub influence_weight: f64,
}

impl Default for CombineParams {
	fn default() -> Self {
		Self { top_k: 8, span_weight: 0.5, influence_weight: 0.5 }
	}
}

/// A signal clipped at zero, summed per contribution and normalized to sum 1; `None` when
/// nothing in it is positive.
fn normalized(signal: &[(ContributionId, f64)]) -> Option<BTreeMap<ContributionId, f64>> {
	let mut sums: BTreeMap<ContributionId, f64> = BTreeMap::new();
	for (id, score) in signal {
		if score.is_finite() && *score > 0.0 {
			*sums.entry(*id).or_insert(0.0) += score;
		}
	}
	let total: f64 = sums.values().sum();
	if !(total.is_finite() && total > 0.0) {
		return None;
	}
	for v in sums.values_mut() {
		*v /= total;
	}
	Some(sums)
}

/// A signal's weight: clipped at zero, non-finite counts as zero.
fn clip(weight: f64) -> f64 {
	if weight.is_finite() && weight > 0.0 {
		weight
	} else {
		0.0
	}
}

/// The attribution of one answer from its span scores and its influence scores (see the module
/// documentation). Empty when neither signal has anything positive with a positive weight, or
/// `top_k` is 0.
pub fn combine(
	spans: &[(ContributionId, f64)],
	influence: &[(ContributionId, f64)],
	params: &CombineParams,
) -> Attribution {
	let scored = !influence.is_empty();
	let signals = [
		(normalized(spans), clip(params.span_weight)),
		(normalized(influence), clip(params.influence_weight)),
	];
	let total_weight: f64 = signals.iter().filter(|(s, _)| s.is_some()).map(|(_, w)| w).sum();
	if total_weight <= 0.0 || params.top_k == 0 {
		return Attribution { entries: Vec::new(), influence: scored };
	}
	let mut mixed: BTreeMap<ContributionId, f64> = BTreeMap::new();
	for (signal, weight) in &signals {
		let Some(signal) = signal else { continue };
		for (id, v) in signal {
			*mixed.entry(*id).or_insert(0.0) += v * weight / total_weight;
		}
	}
	let mut ranked: Vec<(ContributionId, f64)> =
		mixed.into_iter().filter(|(_, w)| *w > 0.0).collect();
	ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
	ranked.truncate(params.top_k);
	Attribution { entries: parts_per_billion(&ranked), influence: scored }
}

/// Positive `weights` (in rank order) rescaled to integers summing to exactly [`BILLION`] by
/// largest-remainder rounding, zeros dropped, sorted by weight (largest first, ties by id).
fn parts_per_billion(weights: &[(ContributionId, f64)]) -> Vec<(ContributionId, u32)> {
	let total: f64 = weights.iter().map(|(_, w)| w).sum();
	if weights.is_empty() || !(total.is_finite() && total > 0.0) {
		return Vec::new();
	}
	let billion = f64::from(BILLION);
	// (rank, id, floor, fractional part)
	let mut parts: Vec<(usize, ContributionId, u64, f64)> = weights
		.iter()
		.enumerate()
		.map(|(rank, (id, w))| {
			let exact = (w / total * billion).clamp(0.0, billion);
			let floor = exact.floor();
			(rank, *id, floor as u64, exact - floor)
		})
		.collect();
	let assigned: u64 = parts.iter().map(|p| p.2).sum();
	let target = u64::from(BILLION);
	// Largest fractional parts first, ties by rank.
	parts.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
	if assigned < target {
		let mut missing = target - assigned;
		// `missing` is below the number of entries unless floating-point error piled up; cycle.
		while missing > 0 {
			for p in parts.iter_mut() {
				if missing == 0 {
					break;
				}
				p.2 += 1;
				missing -= 1;
			}
		}
	} else if assigned > target {
		// Only through floating-point error: take the excess back from the smallest fractional
		// parts that have something to give.
		let mut excess = assigned - target;
		while excess > 0 {
			for p in parts.iter_mut().rev() {
				if excess == 0 {
					break;
				}
				if p.2 > 0 {
					p.2 -= 1;
					excess -= 1;
				}
			}
		}
	}
	let mut entries: Vec<(ContributionId, u32)> = parts
		.into_iter()
		.filter(|p| p.2 > 0)
		.map(|p| (p.1, u32::try_from(p.2).unwrap_or(BILLION)))
		.collect();
	entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
	entries
}

/// An attribution aggregated by contributor: `owner_of` maps a contribution to its owner
/// (`None`: unknown, left out). The weights of an owner's contributions add up; the result is
/// sorted by weight, largest first, ties by owner.
pub fn per_contributor<A: Ord + Clone>(
	attribution: &Attribution,
	owner_of: impl Fn(ContributionId) -> Option<A>,
) -> Vec<(A, u32)> {
	let mut sums: BTreeMap<A, u32> = BTreeMap::new();
	for (id, weight) in &attribution.entries {
		if let Some(owner) = owner_of(*id) {
			let slot = sums.entry(owner).or_insert(0);
			*slot = slot.saturating_add(*weight);
		}
	}
	let mut out: Vec<(A, u32)> = sums.into_iter().collect();
	out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
	out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
	use super::*;
	use crate::train::rng::SplitMix64;

	fn total(a: &Attribution) -> u64 {
		a.entries.iter().map(|(_, w)| u64::from(*w)).sum()
	}

	fn check_invariants(a: &Attribution, top_k: usize) {
		assert!(a.entries.is_empty() || total(a) == u64::from(BILLION), "{a:?}");
		assert!(a.entries.len() <= top_k);
		assert!(a.entries.iter().all(|(_, w)| *w > 0));
		for pair in a.entries.windows(2) {
			assert!(pair[0].1 > pair[1].1 || (pair[0].1 == pair[1].1 && pair[0].0 < pair[1].0));
		}
	}

	#[test]
	fn weights_sum_to_a_billion_on_random_inputs() {
		let mut rng = SplitMix64::new(17);
		for round in 0..2000 {
			let signal = |rng: &mut SplitMix64| -> Vec<(ContributionId, f64)> {
				(0..rng.below(30))
					.map(|_| {
						let scale = [1e-12, 1.0, 1e9, 3.0][rng.below(4)];
						(rng.below(40) as u64, (f64::from(rng.unit()) - 0.3) * scale)
					})
					.collect()
			};
			let spans = signal(&mut rng);
			let influence = signal(&mut rng);
			let params = CombineParams {
				top_k: 1 + round % 12,
				span_weight: f64::from(rng.unit()),
				influence_weight: f64::from(rng.unit()),
			};
			let a = combine(&spans, &influence, &params);
			check_invariants(&a, params.top_k);
			let positive = spans.iter().chain(&influence).any(|(_, s)| *s > 0.0);
			assert_eq!(a.entries.is_empty(), !positive, "{spans:?} {influence:?} {a:?}");
			// Negative scores never get weight.
			for (id, _) in &a.entries {
				assert!(spans.iter().chain(&influence).any(|(i, s)| i == id && *s > 0.0));
			}
			assert_eq!(combine(&spans, &influence, &params), a, "deterministic");
		}
	}

	#[test]
	fn negative_scores_get_nothing() {
		let spans = [(1, -5.0), (2, 1.0), (3, f64::NAN), (4, f64::INFINITY)];
		let influence = [(1, -1.0), (5, 0.0)];
		let a = combine(&spans, &influence, &CombineParams::default());
		assert_eq!(a.entries, vec![(2, BILLION)]);
		assert!(combine(&[(1, -1.0)], &[(2, -2.0)], &CombineParams::default()).entries.is_empty());
		assert!(combine(&[], &[], &CombineParams::default()).entries.is_empty());
	}

	#[test]
	fn top_k_is_respected() {
		let spans: Vec<(ContributionId, f64)> = (0..20).map(|i| (i, (i + 1) as f64)).collect();
		let a = combine(&spans, &[], &CombineParams { top_k: 3, ..Default::default() });
		assert_eq!(a.entries.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![19, 18, 17]);
		// Renormalized over the three kept: 20:19:18 of 57.
		assert_eq!(a.entries, vec![(19, 350_877_193), (18, 333_333_333), (17, 315_789_474)]);
		check_invariants(&a, 3);
		assert!(combine(&spans, &[], &CombineParams { top_k: 0, ..Default::default() })
			.entries
			.is_empty());
	}

	#[test]
	fn ties_are_ordered_by_id_deterministically() {
		let spans = [(9, 1.0), (3, 1.0), (7, 1.0)];
		let a = combine(&spans, &[], &CombineParams::default());
		// The spare part goes to the smallest id.
		assert_eq!(a.entries, vec![(3, 333_333_334), (7, 333_333_333), (9, 333_333_333)]);
		// Top-k among equals keeps the smallest ids.
		let a = combine(&spans, &[], &CombineParams { top_k: 2, ..Default::default() });
		assert_eq!(a.entries, vec![(3, 500_000_000), (7, 500_000_000)]);
		// Order of the input does not matter.
		let b = combine(&[(7, 1.0), (9, 1.0), (3, 1.0)], &[], &CombineParams::default());
		assert_eq!(b, combine(&spans, &[], &CombineParams::default()));
	}

	#[test]
	fn one_empty_signal_gives_the_other_its_whole_weight() {
		let spans = [(1, 3.0), (2, 1.0)];
		let params = CombineParams { span_weight: 0.1, influence_weight: 0.9, top_k: 8 };
		let only_spans = combine(&spans, &[], &params);
		assert_eq!(only_spans.entries, vec![(1, 750_000_000), (2, 250_000_000)]);
		// Influence scored but nothing positive: the spans alone.
		let negative = combine(&spans, &[(5, -1.0)], &params);
		assert_eq!(negative.entries, only_spans.entries);
		assert!(negative.influence && !only_spans.influence);
		let only_influence = combine(&[], &spans, &params);
		assert_eq!(only_influence.entries, only_spans.entries);
		assert!(only_influence.influence);
		// Both present: mixed by weight. 0.1·(0.75, 0.25) + 0.9·(0, 1) for ids 1, 2.
		let mixed = combine(&spans, &[(2, 5.0)], &params);
		assert_eq!(mixed.entries, vec![(2, 925_000_000), (1, 75_000_000)]);
		// A signal weighted zero counts for nothing, even alone.
		let off = CombineParams { span_weight: 0.0, ..params };
		assert!(combine(&spans, &[], &off).entries.is_empty());
		// Duplicate ids add up.
		let dup = combine(&[(1, 1.0), (1, 2.0), (2, 1.0)], &[], &params);
		assert_eq!(dup, only_spans);
	}

	#[test]
	fn tiny_weights_round_away() {
		let a = combine(&[(1, 1.0), (2, 1e-12)], &[], &CombineParams::default());
		assert_eq!(a.entries, vec![(1, BILLION)]);
	}

	#[test]
	fn per_contributor_aggregates_by_owner() {
		let a = Attribution {
			entries: vec![(1, 400_000_000), (2, 300_000_000), (3, 200_000_000), (4, 100_000_000)],
			influence: false,
		};
		let owner = |id: ContributionId| match id {
			1 | 4 => Some("alice"),
			2 | 3 => Some("bob"),
			_ => None,
		};
		assert_eq!(per_contributor(&a, owner), vec![("alice", 500_000_000), ("bob", 500_000_000)]);
		let partial = |id: ContributionId| (id != 1).then_some(id % 2);
		assert_eq!(per_contributor(&a, partial), vec![(0, 400_000_000), (1, 200_000_000)]);
		assert!(per_contributor(&Attribution::default(), owner).is_empty());
	}
}
