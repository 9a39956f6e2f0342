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

/// How many attributed paid inferences settle per block: full `submit_receipts` batches whose
/// every receipt carries `MAX_ATTRIBUTION` entries and pays the worst-case split (each entry a
/// different contributor), charged up front as the call declares.
pub(crate) fn attributed_inferences_per_block() -> u64 {
	let weights = crate::configs::RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let budget = normal.max_total.unwrap_or(weights.max_block);
	use frame_support::traits::Get;
	let batch = <Runtime as pallet_inference::Config>::MaxReceipts::get();
	let per_batch = Inference::submit_receipts_weight(batch).saturating_add(normal.base_extrinsic);
	(budget.ref_time() / per_batch.ref_time().max(1)) * u64::from(batch)
}

#[test]
fn at_least_a_thousand_attributed_inferences_settle_in_one_block() {
	use pallet_inference::traits::Payout;
	let n = attributed_inferences_per_block();
	let split = <Attribution as Payout<AccountId, Balance>>::max_weight(1);
	println!(
		"attributed inferences settled per 6 s block (batches of 128, top-{} each, by weight): \
		 {n}; a split costs at most {} µs",
		crate::configs::MAX_ATTRIBUTION,
		split.ref_time() / 1_000_000
	);
	assert!(n >= 1_000, "only {n} attributed inferences settle per block");
}
