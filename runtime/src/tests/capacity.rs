//! What fits in a block, computed from the runtime's own weights and limits.

use super::*;
use frame_support::dispatch::DispatchClass;
use pallet_datanets::weights::WeightInfo as _;

/// How many `contribute` extrinsics fit in one block's normal-class weight budget, each paying
/// the extrinsic base weight on top of its own.
pub(crate) fn contributions_per_block() -> u64 {
	let weights = crate::configs::RuntimeBlockWeights::get();
	let normal = weights.get(DispatchClass::Normal);
	let budget = normal.max_total.unwrap_or(weights.max_block);
	let per_call = pallet_datanets::weights::SubstrateWeight::<Runtime>::contribute()
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
