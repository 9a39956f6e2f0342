//! Benchmarks of every call, each in its costliest path: a full tranche schedule, a finalize
//! that releases the first tranche, claims and transfers that account new revenue first, an
//! execute that releases a tranche.

use crate::{traits::ModelControl, *};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::{traits::One, Perbill, Saturating};

const SEED: u32 = 0;

/// `n` shares.
fn units<T: Config>(n: u32) -> BalanceOf<T> {
	BalanceOf::<T>::from(n)
}

/// `n` existential deposits of OPEN: prices and funds in the chain's own scale.
fn cash<T: Config>(n: u32) -> BalanceOf<T> {
	<T::Currency as frame_support::traits::fungible::Inspect<T::AccountId>>::minimum_balance()
		.max(One::one())
		.saturating_mul(BalanceOf::<T>::from(n))
}

/// An account with plenty of OPEN.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, SEED);
	let _ = T::Currency::set_balance(&who, cash::<T>(1_000_000_000));
	who
}

/// Terms with `t` equal tranches (the last takes the rest), a window of the next two blocks.
fn terms<T: Config>(t: u32) -> OfferingTermsOf<T> {
	let now = frame_system::Pallet::<T>::block_number();
	let t = t.max(1);
	let mut tranches: Vec<Perbill> = (1..t).map(|_| Perbill::from_rational(1, t)).collect();
	let used = tranches.iter().map(|p| p.deconstruct()).sum::<u32>();
	tranches.push(Perbill::from_parts(Perbill::one().deconstruct().saturating_sub(used)));
	OfferingTerms {
		total_shares: units::<T>(1_000),
		price: cash::<T>(1_000),
		soft_cap: cash::<T>(2_000),
		hard_cap: cash::<T>(1_000_000),
		start: now.saturating_add(One::one()),
		end: now.saturating_add(2u32.into()),
		revenue_share: Perbill::from_percent(80),
		tranches: BoundedVec::truncate_from(tranches),
	}
}

/// An offering by a fresh owner with `t` tranches; returns the owner and the offering.
fn offering<T: Config>(t: u32) -> Result<(T::AccountId, OfferingId), BenchmarkError> {
	let owner = funded::<T>("owner", 0);
	let (model, _) = T::Models::benchmark_model(&owner);
	let id = NextOfferingId::<T>::get();
	let terms = terms::<T>(t);
	let start = terms.start;
	Pallet::<T>::do_create_offering(owner.clone(), model, terms)?;
	frame_system::Pallet::<T>::set_block_number(start);
	Ok((owner, id))
}

/// A successful offering (2 tranches) whose backer `backer` bought 100 shares, with its
/// shares claimed if `claimed`.
fn succeeded<T: Config>(
	claimed: bool,
) -> Result<(T::AccountId, OfferingId, T::AccountId), BenchmarkError> {
	let (owner, id) = offering::<T>(2)?;
	let backer = funded::<T>("backer", 0);
	Pallet::<T>::do_buy(backer.clone(), id, units::<T>(100))?;
	skip_window::<T>();
	Pallet::<T>::do_finalize(id)?;
	if claimed {
		Pallet::<T>::do_claim_shares(id, backer.clone())?;
	}
	Ok((owner, id, backer))
}

fn skip_window<T: Config>() {
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(now.saturating_add(10u32.into()));
}

fn advance<T: Config>(blocks: BlockNumberFor<T>) {
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(
		now.saturating_add(blocks).saturating_add(One::one()),
	);
}

fn pay_revenue<T: Config>(id: OfferingId) {
	let _ = T::Currency::mint_into(&Pallet::<T>::revenue_account_of(id), cash::<T>(1_000_000));
}

/// A passed `ReleaseTranche` proposal, executable now.
fn passed<T: Config>() -> Result<(OfferingId, ProposalId), BenchmarkError> {
	let (_, id, backer) = succeeded::<T>(true)?;
	let proposal = NextProposalId::<T>::get();
	Pallet::<T>::do_propose(backer.clone(), id, ProposalKind::ReleaseTranche)?;
	Pallet::<T>::do_vote(backer, proposal, true)?;
	advance::<T>(Pallet::<T>::voting_period());
	Pallet::<T>::do_close(proposal)?;
	advance::<T>(Pallet::<T>::enactment_delay());
	Ok((id, proposal))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_offering(t: Linear<1, { T::MaxTranches::get() }>) -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let (model, _) = T::Models::benchmark_model(&owner);
		let terms = terms::<T>(t);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, terms);

		assert_eq!(ModelOfferings::<T>::get(model), Some(0));
		Ok(())
	}

	#[benchmark]
	fn buy() -> Result<(), BenchmarkError> {
		let (_, id) = offering::<T>(1)?;
		let backer = funded::<T>("backer", 0);
		Pallet::<T>::do_buy(backer.clone(), id, units::<T>(1))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(backer.clone()), id, units::<T>(10));

		assert_eq!(Purchases::<T>::get(id, &backer), Some(cash::<T>(11_000)));
		Ok(())
	}

	#[benchmark]
	fn finalize() -> Result<(), BenchmarkError> {
		let (_, id) = offering::<T>(T::MaxTranches::get())?;
		Pallet::<T>::do_buy(funded::<T>("backer", 0), id, units::<T>(100))?;
		skip_window::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("caller", 0)), id);

		let o = Offerings::<T>::get(id).ok_or("no offering")?;
		assert_eq!((o.status, o.tranches_released), (OfferingStatus::Succeeded, 1));
		Ok(())
	}

	#[benchmark]
	fn claim_shares() -> Result<(), BenchmarkError> {
		let (_, id, backer) = succeeded::<T>(false)?;
		pay_revenue::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("caller", 0)), id, backer.clone());

		assert_eq!(Holdings::<T>::get(id, &backer).map(|h| h.shares), Some(units::<T>(100)));
		Ok(())
	}

	#[benchmark]
	fn refund() -> Result<(), BenchmarkError> {
		let (_, id) = offering::<T>(1)?;
		let backer = funded::<T>("backer", 0);
		Pallet::<T>::do_buy(backer.clone(), id, One::one())?;
		skip_window::<T>();
		Pallet::<T>::do_finalize(id)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("caller", 0)), id, backer.clone());

		assert!(Purchases::<T>::get(id, &backer).is_none());
		Ok(())
	}

	#[benchmark]
	fn distribute_revenue() -> Result<(), BenchmarkError> {
		let (_, id, _) = succeeded::<T>(true)?;
		pay_revenue::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("caller", 0)), id);

		assert!(Offerings::<T>::get(id).is_some_and(|o| o.acc_per_share > 0));
		Ok(())
	}

	#[benchmark]
	fn claim_revenue() -> Result<(), BenchmarkError> {
		let (_, id, backer) = succeeded::<T>(true)?;
		pay_revenue::<T>(id);

		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("caller", 0)), id, backer.clone());

		assert!(Holdings::<T>::get(id, &backer).is_some_and(|h| h.owed == units::<T>(0)));
		Ok(())
	}

	#[benchmark]
	fn transfer_shares() -> Result<(), BenchmarkError> {
		let (_, id, backer) = succeeded::<T>(true)?;
		pay_revenue::<T>(id);
		let to = funded::<T>("receiver", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(backer), id, to.clone(), units::<T>(50));

		assert_eq!(Holdings::<T>::get(id, &to).map(|h| h.shares), Some(units::<T>(50)));
		Ok(())
	}

	#[benchmark]
	fn propose() -> Result<(), BenchmarkError> {
		let (_, id, backer) = succeeded::<T>(true)?;
		// The offering's model (the benchmark model) has this version.
		let (_, version) = T::Models::benchmark_model(&funded::<T>("owner", 0));

		#[extrinsic_call]
		_(RawOrigin::Signed(backer), id, ProposalKind::ActivateVersion(version));

		assert_eq!(OpenProposals::<T>::get(id).len(), 1);
		Ok(())
	}

	#[benchmark]
	fn vote() -> Result<(), BenchmarkError> {
		let (_, id, backer) = succeeded::<T>(true)?;
		Pallet::<T>::do_propose(backer.clone(), id, ProposalKind::ReleaseTranche)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(backer.clone()), 0, true);

		assert!(Votes::<T>::contains_key(0, &backer));
		Ok(())
	}

	#[benchmark]
	fn close() -> Result<(), BenchmarkError> {
		let (_, id, backer) = succeeded::<T>(true)?;
		Pallet::<T>::do_propose(backer.clone(), id, ProposalKind::ReleaseTranche)?;
		Pallet::<T>::do_vote(backer, 0, false)?;
		advance::<T>(Pallet::<T>::voting_period());

		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("caller", 0)), 0);

		// Rejected: the costlier path, which also edits the open proposals.
		assert!(OpenProposals::<T>::get(id).is_empty());
		Ok(())
	}

	#[benchmark]
	fn execute() -> Result<(), BenchmarkError> {
		let (id, proposal) = passed::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(funded::<T>("caller", 0)), proposal);

		assert_eq!(Offerings::<T>::get(id).map(|o| o.tranches_released), Some(2));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
