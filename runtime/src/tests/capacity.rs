//! What fits in a block, computed from the runtime's own weights and limits.

use super::*;
use crate::{Attribution, Inference};
use frame_support::dispatch::DispatchClass;
use pallet_datanets::weights::WeightInfo as _;

/// How many `contribute` extrinsics fit in one block's normal-class weight budget, each paying
/// the extrinsic base weight on top of its own.
pub(crate) fn contributions_per_block() -> u64 {
	let weights = crate::configs::RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let budget = normal.max_total.unwrap_or(weights.max_block);
	let per_call = crate::weights::pallet_datanets::WeightInfo::<Runtime>::contribute()
		.saturating_add(normal.base_extrinsic);
	budget.ref_time() / per_call.ref_time().max(1)
}

#[test]
fn at_least_a_thousand_contributions_fit_in_one_block() {
	let n = contributions_per_block();
	println!("contribute calls per 6 s block (normal class, by weight): {n}");
	assert!(n >= 1_000, "only {n} contributions fit");
	// ...and the block length limit does not bind first: a contribution with the longest
	// locator and metadata is well under 1 KiB.
	let length = crate::configs::RuntimeBlockLength::get();
	let max_normal = *length.max.get(DispatchClass::Normal) as u64;
	assert!(max_normal / 1_024 >= n, "block length allows only {} KiB", max_normal / 1_024);
}

/// How many `submit_result` extrinsics fit in one block when each pays `per_result` (its actual,
/// post-dispatch weight) plus the extrinsic base weight.
fn results_per_block(per_result: frame_support::weights::Weight) -> u64 {
	let weights = crate::configs::RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let budget = normal.max_total.unwrap_or(weights.max_block);
	budget.ref_time() / per_result.saturating_add(normal.base_extrinsic).ref_time().max(1)
}

#[test]
fn at_least_a_thousand_results_fit_in_one_block() {
	use pallet_compute::weights::WeightInfo as _;
	type W = crate::weights::pallet_compute::WeightInfo<Runtime>;
	// A job with replication r takes r results: r - 1 record themselves, the last settles.
	let r = 3u64;
	let settle = W::submit_result_settle(r as u32);
	let worst = W::submit_result_settle(15).max(W::submit_result_escalate());
	let amortized =
		W::submit_result_record().saturating_mul(r - 1).saturating_add(settle).saturating_add(
			crate::configs::RuntimeBlockWeights::get()
				.get(DispatchClass::Normal)
				.base_extrinsic
				.saturating_mul(r - 1),
		);
	let recorded = results_per_block(W::submit_result_record());
	let jobs_of_three = results_per_block(amortized);
	let all_settling = results_per_block(worst);
	println!(
		"submit_result per 6 s block, by weight: {recorded} recording, {} in jobs of r = 3, \
		 {all_settling} if every one paid the worst case (settling 15 workers or escalating)",
		jobs_of_three * r
	);
	assert!(recorded >= 1_000, "only {recorded} results fit");
	assert!(jobs_of_three * r >= 1_000, "only {} results fit in jobs of three", jobs_of_three * r);
	assert!(all_settling < recorded, "settling must cost more than recording");
}

/// How many attributed paid inferences settle per block in `submit_receipts` batches of
/// `batch`, every receipt carrying `MAX_ATTRIBUTION` entries, each a different contributor (the
/// worst case for the split): `(steady, worst)`.
///
/// Each batch is admitted by its declared weight (every receipt split on its own, for its own
/// model, every emissions note settling an earlier era first) and then charged what it used.
/// `steady`: a batch of one worker for one model version, settled as one split (each account
/// credited once), its contributors and worker already holding points in the open era (each
/// settles once per era, on its first note); a block admits batches while the declared weight
/// still fits and fills by the used weight. `worst`: each batch uses all it declared.
pub(crate) fn attributed_inferences_per_block(batch: u32) -> (u64, u64) {
	use pallet_attribution::weights::WeightInfo as _;
	use pallet_inference::weights::WeightInfo as _;
	let weights = crate::configs::RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let budget = normal.max_total.unwrap_or(weights.max_block).ref_time();
	let declared =
		Inference::submit_receipts_weight(batch).saturating_add(normal.base_extrinsic).ref_time();
	// The runtime's batch benchmark includes the notes of its accounts (not settling).
	let split = <Runtime as pallet_attribution::Config>::WeightInfo::distribute_batch(batch);
	let used = <Runtime as pallet_inference::Config>::WeightInfo::submit_receipts(batch)
		.saturating_add(split)
		.saturating_add(normal.base_extrinsic)
		.ref_time();
	let steady = match budget.checked_sub(declared) {
		Some(room) => 1 + room / used.max(1),
		None => 0,
	};
	let worst = budget / declared.max(1);
	(steady * u64::from(batch), worst * u64::from(batch))
}

#[test]
fn at_least_a_thousand_attributed_inferences_settle_in_one_block() {
	use frame_support::traits::Get;
	use pallet_inference::traits::Payout;
	let max = <Runtime as pallet_inference::Config>::MaxReceipts::get();
	let sizes = [max, max / 2, max / 4, max / 8];
	let counts: Vec<(u32, u64, u64)> = sizes
		.iter()
		.map(|&batch| {
			let (steady, worst) = attributed_inferences_per_block(batch);
			(batch, steady, worst)
		})
		.collect();
	let split = <Attribution as Payout<AccountId, Balance>>::max_weight(1);
	for (batch, steady, worst) in &counts {
		println!(
			"attributed inferences settled per 6 s block (batches of {batch}, top-{} each, every \
			 entry a different contributor, by weight): {steady} once the era's accounts hold \
			 points, {worst} if every emissions note settles an earlier era first",
			crate::configs::MAX_ATTRIBUTION
		);
	}
	println!("a split declares at most {} µs", split.ref_time() / 1_000_000);
	let best = counts.iter().map(|(_, steady, _)| *steady).max().unwrap_or(0);
	assert!(best >= 1_000, "only {best} attributed inferences settle per block");
	for (_, steady, worst) in &counts {
		assert!(worst <= steady);
	}
}
