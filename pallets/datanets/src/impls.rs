//! The logic behind the calls, and the [`DatanetsInspect`] implementation.

use frame_support::{
	ensure,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{DepositConsequence, Fortitude, Precision, Preservation, Provenance, Restriction},
		Get,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, CheckedSub, Saturating, Zero},
	ArithmeticError, DispatchError, DispatchResult,
};

use crate::{
	merkle, traits::DatanetsInspect, AcceptedContributions, AcceptedPeaks, AccessPolicy,
	AccessPolicyOf, BalanceOf, Config, ContentHashes, Contribution, ContributionId,
	ContributionRulesOf, ContributionStatus, Contributions, ContributorInfo, Contributors,
	Curators, Datanet, DatanetContributions, DatanetCounters, DatanetId, DatanetRecords,
	DatanetSnapshots, DatanetStatus, DescriptionOf, Error, Event, HoldReason, LicenseOf, LocatorOf,
	MediaTypeOf, MetadataOf, NameOf, NextContributionId, NextDatanetId, NextSnapshotId, Pallet,
	RejectReason, Snapshot, SnapshotId, SnapshotSummary, Snapshots, TagsOf, Verdict,
};

fn overflow() -> DispatchError {
	ArithmeticError::Overflow.into()
}

fn underflow() -> DispatchError {
	ArithmeticError::Underflow.into()
}

/// `value + 1`, or an overflow error.
fn incremented<N: CheckedAdd + From<u8>>(value: N) -> Result<N, DispatchError> {
	value.checked_add(&N::from(1u8)).ok_or_else(overflow)
}

/// `value - 1`, or an underflow error.
fn decremented<N: CheckedSub + From<u8>>(value: N) -> Result<N, DispatchError> {
	value.checked_sub(&N::from(1u8)).ok_or_else(underflow)
}

/// A `u32` configuration value as a reputation delta.
fn reputation_delta(value: u32) -> i32 {
	i32::try_from(value).unwrap_or(i32::MAX)
}

impl<T: Config> Pallet<T> {
	fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	/// The Datanet, if `who` owns it.
	fn owned_datanet(who: &T::AccountId, datanet: DatanetId) -> Result<Datanet<T>, DispatchError> {
		let record = DatanetRecords::<T>::get(datanet).ok_or(Error::<T>::DatanetNotFound)?;
		ensure!(record.owner == *who, Error::<T>::NotOwner);
		Ok(record)
	}

	/// Whether `who` is the Datanet's owner or one of its curators.
	pub fn is_curator(datanet: DatanetId, record: &Datanet<T>, who: &T::AccountId) -> bool {
		record.owner == *who || Curators::<T>::get(datanet).contains(who)
	}

	pub(crate) fn do_create_datanet(
		owner: T::AccountId,
		name: NameOf<T>,
		description: DescriptionOf<T>,
		tags: TagsOf<T>,
		license: LicenseOf<T>,
		rules: ContributionRulesOf<T>,
		access: AccessPolicyOf<T>,
	) -> Result<DatanetId, DispatchError> {
		ensure!(!name.is_empty(), Error::<T>::EmptyName);
		ensure!(rules.max_bytes > 0 && !rules.media_types.is_empty(), Error::<T>::InvalidRules);

		let id = NextDatanetId::<T>::get();
		let next = incremented(id)?;
		let deposit = T::DatanetDeposit::get();
		T::Currency::hold(&HoldReason::DatanetDeposit.into(), &owner, deposit)?;

		let record = Datanet::<T> {
			owner: owner.clone(),
			name: name.clone(),
			description: description.clone(),
			tags: tags.clone(),
			license: license.clone(),
			rules: rules.clone(),
			access: access.clone(),
			status: DatanetStatus::Open,
			deposit,
			created_at: Self::now(),
			counters: DatanetCounters::default(),
		};
		DatanetRecords::<T>::insert(id, record);
		NextDatanetId::<T>::put(next);

		Self::deposit_event(Event::DatanetCreated {
			datanet: id,
			owner,
			name,
			description,
			tags,
			license,
			rules,
			access,
			deposit,
		});
		Ok(id)
	}

	pub(crate) fn do_add_curator(
		owner: &T::AccountId,
		datanet: DatanetId,
		curator: T::AccountId,
	) -> DispatchResult {
		let record = Self::owned_datanet(owner, datanet)?;
		ensure!(record.status != DatanetStatus::Closed, Error::<T>::DatanetClosed);
		ensure!(curator != record.owner, Error::<T>::AlreadyCurator);
		Curators::<T>::try_mutate(datanet, |curators| -> DispatchResult {
			ensure!(!curators.contains(&curator), Error::<T>::AlreadyCurator);
			curators.try_push(curator.clone()).map_err(|_| Error::<T>::TooManyCurators)?;
			Ok(())
		})?;
		Self::deposit_event(Event::CuratorAdded { datanet, curator });
		Ok(())
	}

	pub(crate) fn do_remove_curator(
		owner: &T::AccountId,
		datanet: DatanetId,
		curator: T::AccountId,
	) -> DispatchResult {
		Self::owned_datanet(owner, datanet)?;
		Curators::<T>::try_mutate(datanet, |curators| -> DispatchResult {
			let position =
				curators.iter().position(|c| *c == curator).ok_or(Error::<T>::CuratorNotFound)?;
			curators.remove(position);
			Ok(())
		})?;
		Self::deposit_event(Event::CuratorRemoved { datanet, curator });
		Ok(())
	}

	pub(crate) fn do_set_access_policy(
		owner: &T::AccountId,
		datanet: DatanetId,
		access: AccessPolicyOf<T>,
	) -> DispatchResult {
		let mut record = Self::owned_datanet(owner, datanet)?;
		record.access = access.clone();
		DatanetRecords::<T>::insert(datanet, record);
		Self::deposit_event(Event::AccessPolicySet { datanet, access });
		Ok(())
	}

	pub(crate) fn do_pause(owner: &T::AccountId, datanet: DatanetId) -> DispatchResult {
		let mut record = Self::owned_datanet(owner, datanet)?;
		ensure!(record.status == DatanetStatus::Open, Error::<T>::DatanetNotOpen);
		record.status = DatanetStatus::Paused;
		DatanetRecords::<T>::insert(datanet, record);
		Self::deposit_event(Event::DatanetPaused { datanet });
		Ok(())
	}

	pub(crate) fn do_reopen(owner: &T::AccountId, datanet: DatanetId) -> DispatchResult {
		let mut record = Self::owned_datanet(owner, datanet)?;
		ensure!(record.status == DatanetStatus::Paused, Error::<T>::DatanetNotPaused);
		record.status = DatanetStatus::Open;
		DatanetRecords::<T>::insert(datanet, record);
		Self::deposit_event(Event::DatanetReopened { datanet });
		Ok(())
	}

	pub(crate) fn do_close(owner: &T::AccountId, datanet: DatanetId) -> DispatchResult {
		let mut record = Self::owned_datanet(owner, datanet)?;
		ensure!(record.status != DatanetStatus::Closed, Error::<T>::DatanetClosed);
		ensure!(record.counters.pending == 0, Error::<T>::PendingContributionsRemain);

		let released = T::Currency::release(
			&HoldReason::DatanetDeposit.into(),
			&record.owner,
			record.deposit,
			Precision::Exact,
		)?;
		record.deposit = Zero::zero();
		record.status = DatanetStatus::Closed;
		DatanetRecords::<T>::insert(datanet, record);

		Self::deposit_event(Event::DatanetClosed {
			datanet,
			owner: owner.clone(),
			deposit_released: released,
		});
		Ok(())
	}

	pub(crate) fn do_contribute(
		contributor: T::AccountId,
		datanet: DatanetId,
		content_hash: H256,
		size: u64,
		media_type: MediaTypeOf<T>,
		locator: LocatorOf<T>,
		metadata: MetadataOf<T>,
	) -> Result<ContributionId, DispatchError> {
		let mut record = DatanetRecords::<T>::get(datanet).ok_or(Error::<T>::DatanetNotFound)?;
		ensure!(record.status == DatanetStatus::Open, Error::<T>::DatanetNotOpen);
		ensure!(size > 0, Error::<T>::EmptyContribution);
		ensure!(size <= record.rules.max_bytes, Error::<T>::ContributionTooLarge);
		ensure!(record.rules.media_types.contains(&media_type), Error::<T>::MediaTypeNotAllowed);
		ensure!(
			!ContentHashes::<T>::contains_key(datanet, content_hash),
			Error::<T>::DuplicateContribution
		);
		let mut info = Contributors::<T>::get(datanet, &contributor).unwrap_or_default();
		ensure!(!info.barred, Error::<T>::ContributorBarred);
		ensure!(
			info.pending < T::MaxPendingPerContributor::get(),
			Error::<T>::TooManyPendingContributions
		);
		let occupied = record.counters.accepted.checked_add(record.counters.pending);
		ensure!(
			occupied.is_some_and(|n| n < T::MaxAcceptedPerDatanet::get()),
			Error::<T>::DatanetFull
		);

		let id = NextContributionId::<T>::get();
		let index = record.counters.submitted;
		NextContributionId::<T>::put(incremented(id)?);
		record.counters.submitted = incremented(index)?;
		record.counters.pending = incremented(record.counters.pending)?;
		info.pending = incremented(info.pending)?;

		let deposit = T::ContributionDeposit::get();
		T::Currency::hold(&HoldReason::ContributionDeposit.into(), &contributor, deposit)?;

		Contributions::<T>::insert(
			id,
			Contribution::<T> {
				datanet,
				index,
				contributor: contributor.clone(),
				content_hash,
				size,
				media_type: media_type.clone(),
				locator: locator.clone(),
				metadata: metadata.clone(),
				deposit,
				status: ContributionStatus::Pending,
				submitted_at: Self::now(),
			},
		);
		DatanetContributions::<T>::insert(datanet, index, id);
		ContentHashes::<T>::insert(datanet, content_hash, id);
		Contributors::<T>::insert(datanet, &contributor, info);
		DatanetRecords::<T>::insert(datanet, record);

		Self::deposit_event(Event::ContributionSubmitted {
			contribution: id,
			datanet,
			index,
			contributor,
			content_hash,
			size,
			media_type,
			locator,
			metadata,
			deposit,
		});
		Ok(id)
	}

	pub(crate) fn do_curate(
		curator: T::AccountId,
		id: ContributionId,
		verdict: Verdict,
	) -> DispatchResult {
		let contribution = Contributions::<T>::get(id).ok_or(Error::<T>::ContributionNotFound)?;
		ensure!(contribution.is_pending(), Error::<T>::ContributionNotPending);
		let record =
			DatanetRecords::<T>::get(contribution.datanet).ok_or(Error::<T>::DatanetNotFound)?;
		ensure!(Self::is_curator(contribution.datanet, &record, &curator), Error::<T>::NotCurator);
		ensure!(contribution.contributor != curator, Error::<T>::CannotCurateOwnContribution);
		let info = Contributors::<T>::get(contribution.datanet, &contribution.contributor)
			.unwrap_or_default();

		match verdict {
			Verdict::Accept => Self::accept(curator, id, contribution, record, info),
			Verdict::Reject(reason) => {
				Self::reject(curator, id, contribution, record, info, reason)
			}
		}
	}

	fn accept(
		curator: T::AccountId,
		id: ContributionId,
		mut contribution: Contribution<T>,
		mut record: Datanet<T>,
		mut info: ContributorInfo,
	) -> DispatchResult {
		let datanet = contribution.datanet;
		let position = record.counters.accepted;
		let leaf = contribution.leaf(id);
		let mut peaks = AcceptedPeaks::<T>::get(datanet);
		merkle::push_leaf(&mut peaks, position, leaf)
			.map_err(|merkle::PeaksMismatch| Error::<T>::CorruptMerklePeaks)?;

		record.counters.pending = decremented(record.counters.pending)?;
		record.counters.accepted = incremented(position)?;
		record.counters.accepted_bytes =
			record.counters.accepted_bytes.checked_add(contribution.size).ok_or_else(overflow)?;
		info.pending = decremented(info.pending)?;
		info.accepted = incremented(info.accepted)?;
		info.reputation =
			info.reputation.saturating_add(reputation_delta(T::ReputationReward::get()));

		let released = T::Currency::release(
			&HoldReason::ContributionDeposit.into(),
			&contribution.contributor,
			contribution.deposit,
			Precision::Exact,
		)?;
		contribution.status = ContributionStatus::Accepted { position, at: Self::now() };

		AcceptedPeaks::<T>::insert(datanet, peaks);
		AcceptedContributions::<T>::insert(datanet, position, id);
		Contributors::<T>::insert(datanet, &contribution.contributor, info);
		DatanetRecords::<T>::insert(datanet, record);
		let contributor = contribution.contributor.clone();
		Contributions::<T>::insert(id, contribution);
		<T::OnAccepted as crate::traits::OnContributionAccepted<T::AccountId>>::on_accepted(
			&curator,
			&contributor,
			id,
		);

		Self::deposit_event(Event::ContributionAccepted {
			contribution: id,
			datanet,
			contributor,
			curator,
			position,
			leaf,
			deposit_released: released,
			reputation: info.reputation,
		});
		Ok(())
	}

	fn reject(
		curator: T::AccountId,
		id: ContributionId,
		mut contribution: Contribution<T>,
		mut record: Datanet<T>,
		mut info: ContributorInfo,
		reason: RejectReason,
	) -> DispatchResult {
		let datanet = contribution.datanet;
		record.counters.pending = decremented(record.counters.pending)?;
		info.pending = decremented(info.pending)?;
		info.rejected = incremented(info.rejected)?;
		info.reputation =
			info.reputation.saturating_sub(reputation_delta(T::ReputationPenalty::get()));
		let newly_barred = !info.barred && info.reputation < T::BarThreshold::get();
		info.barred = info.barred || newly_barred;

		let (to_treasury, to_curator) = Self::slash_deposit(&contribution, &curator)?;
		contribution.status = ContributionStatus::Rejected { reason, at: Self::now() };

		Contributors::<T>::insert(datanet, &contribution.contributor, info);
		DatanetRecords::<T>::insert(datanet, record);
		let contributor = contribution.contributor.clone();
		Contributions::<T>::insert(id, contribution);

		Self::deposit_event(Event::ContributionRejected {
			contribution: id,
			datanet,
			contributor: contributor.clone(),
			curator,
			reason,
			to_treasury,
			to_curator,
			reputation: info.reputation,
		});
		if newly_barred {
			Self::deposit_event(Event::ContributorBarred {
				datanet,
				contributor,
				reputation: info.reputation,
			});
		}
		Ok(())
	}

	/// Moves a rejected contribution's held deposit to the treasury and the curator. Returns what
	/// each received.
	fn slash_deposit(
		contribution: &Contribution<T>,
		curator: &T::AccountId,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		let deposit = contribution.deposit;
		let treasury = T::TreasuryAccount::get();
		let mut to_treasury = T::SlashToTreasury::get().mul_floor(deposit);
		// A treasury account that does not exist yet cannot take less than the existential
		// deposit; the curator takes that share rather than anyone burning it.
		if T::Currency::can_deposit(&treasury, to_treasury, Provenance::Extant)
			!= DepositConsequence::Success
		{
			to_treasury = Zero::zero();
		}
		let to_curator = deposit.saturating_sub(to_treasury);

		let reason = HoldReason::ContributionDeposit.into();
		for (dest, amount) in [(&treasury, to_treasury), (curator, to_curator)] {
			if !amount.is_zero() {
				T::Currency::transfer_on_hold(
					&reason,
					&contribution.contributor,
					dest,
					amount,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
			}
		}
		Ok((to_treasury, to_curator))
	}

	pub(crate) fn do_withdraw(contributor: T::AccountId, id: ContributionId) -> DispatchResult {
		let mut contribution =
			Contributions::<T>::get(id).ok_or(Error::<T>::ContributionNotFound)?;
		ensure!(contribution.contributor == contributor, Error::<T>::NotContributor);
		ensure!(contribution.is_pending(), Error::<T>::ContributionNotPending);
		let datanet = contribution.datanet;
		let mut record = DatanetRecords::<T>::get(datanet).ok_or(Error::<T>::DatanetNotFound)?;
		let mut info = Contributors::<T>::get(datanet, &contributor).unwrap_or_default();
		record.counters.pending = decremented(record.counters.pending)?;
		info.pending = decremented(info.pending)?;

		let released = T::Currency::release(
			&HoldReason::ContributionDeposit.into(),
			&contributor,
			contribution.deposit,
			Precision::Exact,
		)?;
		contribution.status = ContributionStatus::Withdrawn { at: Self::now() };

		ContentHashes::<T>::remove(datanet, contribution.content_hash);
		Contributors::<T>::insert(datanet, &contributor, info);
		DatanetRecords::<T>::insert(datanet, record);
		Contributions::<T>::insert(id, contribution);

		Self::deposit_event(Event::ContributionWithdrawn {
			contribution: id,
			datanet,
			contributor,
			deposit_released: released,
		});
		Ok(())
	}

	pub(crate) fn do_snapshot(
		who: T::AccountId,
		datanet: DatanetId,
	) -> Result<SnapshotId, DispatchError> {
		let mut record = DatanetRecords::<T>::get(datanet).ok_or(Error::<T>::DatanetNotFound)?;
		ensure!(Self::is_curator(datanet, &record, &who), Error::<T>::NotCurator);
		let count = record.counters.accepted;
		ensure!(count > record.counters.snapshotted, Error::<T>::NothingNewToSnapshot);
		let peaks = AcceptedPeaks::<T>::get(datanet);
		ensure!(peaks.len() == count.count_ones() as usize, Error::<T>::CorruptMerklePeaks);
		let root = merkle::peaks_root(&peaks).ok_or(Error::<T>::CorruptMerklePeaks)?;

		let id = NextSnapshotId::<T>::get();
		let version = incremented(record.counters.snapshots)?;
		NextSnapshotId::<T>::put(incremented(id)?);
		record.counters.snapshots = version;
		record.counters.snapshotted = count;
		let total_bytes = record.counters.accepted_bytes;

		Snapshots::<T>::insert(
			id,
			Snapshot {
				datanet,
				version,
				root,
				count,
				total_bytes,
				created_by: who.clone(),
				created_at: Self::now(),
			},
		);
		DatanetSnapshots::<T>::insert(datanet, version, id);
		DatanetRecords::<T>::insert(datanet, record);

		Self::deposit_event(Event::SnapshotCreated {
			snapshot: id,
			datanet,
			version,
			root,
			count,
			total_bytes,
			created_by: who,
		});
		Ok(id)
	}

	/// Whether the access policy lets `who` train on the Datanet, ignoring any fee.
	fn policy_admits(record: &Datanet<T>, who: &T::AccountId) -> bool {
		record.owner == *who
			|| match &record.access {
				AccessPolicy::Public | AccessPolicy::FeePerUse(_) => true,
				AccessPolicy::Allowlist(accounts) => accounts.contains(who),
			}
	}

	/// The snapshot's leaves in order, read from storage: `O(count)` reads, for the runtime API
	/// and `try_state`, never for a call.
	pub fn snapshot_leaves(
		snapshot: &Snapshot<T::AccountId, BlockNumberFor<T>>,
	) -> Option<alloc::vec::Vec<H256>> {
		Self::accepted_leaves(snapshot.datanet, snapshot.count)
	}

	/// The leaves of the first `count` accepted contributions of a Datanet.
	pub(crate) fn accepted_leaves(datanet: DatanetId, count: u32) -> Option<alloc::vec::Vec<H256>> {
		(0..count)
			.map(|position| {
				let id = AcceptedContributions::<T>::get(datanet, position)?;
				Contributions::<T>::get(id).map(|c| c.leaf(id))
			})
			.collect()
	}
}

impl<T: Config> DatanetsInspect<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn datanet_exists(datanet: DatanetId) -> bool {
		DatanetRecords::<T>::contains_key(datanet)
	}

	fn datanet_owner(datanet: DatanetId) -> Option<T::AccountId> {
		DatanetRecords::<T>::get(datanet).map(|d| d.owner)
	}

	fn snapshot(snapshot: SnapshotId) -> Option<SnapshotSummary> {
		Snapshots::<T>::get(snapshot).map(|s| SnapshotSummary {
			datanet: s.datanet,
			version: s.version,
			root: s.root,
			count: s.count,
			total_bytes: s.total_bytes,
		})
	}

	fn may_train(who: &T::AccountId, snapshot: SnapshotId) -> bool {
		Snapshots::<T>::get(snapshot)
			.and_then(|s| DatanetRecords::<T>::get(s.datanet))
			.is_some_and(|record| Self::policy_admits(&record, who))
	}

	fn charge_training_access(
		who: &T::AccountId,
		snapshot: SnapshotId,
	) -> Result<BalanceOf<T>, DispatchError> {
		let datanet = Snapshots::<T>::get(snapshot).ok_or(Error::<T>::SnapshotNotFound)?.datanet;
		let record = DatanetRecords::<T>::get(datanet).ok_or(Error::<T>::DatanetNotFound)?;
		ensure!(Self::policy_admits(&record, who), Error::<T>::TrainingNotAllowed);
		let fee = match record.access.fee() {
			Some(fee) if record.owner != *who => *fee,
			_ => Zero::zero(),
		};
		if !fee.is_zero() {
			T::Currency::transfer(who, &record.owner, fee, Preservation::Preserve)?;
		}
		Self::deposit_event(Event::TrainingAccessCharged {
			snapshot,
			datanet,
			who: who.clone(),
			owner: record.owner,
			fee,
		});
		Ok(fee)
	}

	fn contribution_datanet(contribution: ContributionId) -> Option<DatanetId> {
		Contributions::<T>::get(contribution).map(|c| c.datanet)
	}

	fn contributor_of(contribution: ContributionId) -> Option<T::AccountId> {
		Contributions::<T>::get(contribution).map(|c| c.contributor)
	}

	fn is_accepted(contribution: ContributionId) -> bool {
		Contributions::<T>::get(contribution).is_some_and(|c| c.accepted_position().is_some())
	}

	fn is_in_snapshot(contribution: ContributionId, snapshot: SnapshotId) -> bool {
		let (Some(c), Some(s)) =
			(Contributions::<T>::get(contribution), Snapshots::<T>::get(snapshot))
		else {
			return false;
		};
		c.datanet == s.datanet && c.accepted_position().is_some_and(|position| position < s.count)
	}

	fn attributable(
		contribution: ContributionId,
		snapshot: &SnapshotSummary,
	) -> Option<T::AccountId> {
		Contributions::<T>::get(contribution)
			.filter(|c| {
				c.datanet == snapshot.datanet
					&& c.accepted_position().is_some_and(|position| position < snapshot.count)
			})
			.map(|c| c.contributor)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_snapshot(
		owner: &T::AccountId,
		accepted: u32,
	) -> Result<SnapshotId, DispatchError> {
		use frame_support::BoundedVec;
		let plenty = T::DatanetDeposit::get()
			.saturating_add(T::ContributionDeposit::get())
			.saturating_mul(BalanceOf::<T>::from(100u32))
			.saturating_add(T::Currency::minimum_balance());
		T::Currency::set_balance(owner, plenty);

		let media_type: MediaTypeOf<T> = BoundedVec::truncate_from(b"text/plain".to_vec());
		let rules = ContributionRulesOf::<T> {
			max_bytes: u64::MAX,
			media_types: BoundedVec::truncate_from(alloc::vec![media_type.clone()]),
		};
		let datanet = Self::do_create_datanet(
			owner.clone(),
			BoundedVec::truncate_from(b"benchmark".to_vec()),
			Default::default(),
			Default::default(),
			Default::default(),
			rules,
			AccessPolicy::Public,
		)?;
		for i in 0..accepted.max(1) {
			// A different contributor each: the worst case for whoever pays them.
			let contributor: T::AccountId =
				frame_benchmarking::account("datanets-benchmark-contributor", i, 0);
			T::Currency::set_balance(&contributor, plenty);
			let hash = H256(sp_io::hashing::blake2_256(&i.to_le_bytes()));
			let id = Self::do_contribute(
				contributor,
				datanet,
				hash,
				1,
				media_type.clone(),
				Default::default(),
				Default::default(),
			)?;
			Self::do_curate(owner.clone(), id, Verdict::Accept)?;
		}
		Self::do_snapshot(owner.clone(), datanet)
	}
}
