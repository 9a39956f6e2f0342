//! Invariants checked by the `try_state` hook and after every unit test.

use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	TryRuntimeError,
};

use crate::{
	merkle, AcceptedContributions, AcceptedPeaks, BalanceOf, Config, ContentHashes,
	ContributionStatus, Contributions, ContributorInfo, Contributors, Curators,
	DatanetContributions, DatanetRecords, DatanetSnapshots, DatanetStatus, HoldReason,
	NextContributionId, NextDatanetId, NextSnapshotId, Pallet, Snapshots,
};

impl<T: Config> Pallet<T> {
	/// Checks that counters, indexes, Merkle peaks, snapshots and held deposits agree with the
	/// records. Reads all of the pallet's storage.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut owner_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut pending_deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut standings: BTreeMap<(u32, T::AccountId), ContributorInfo> = BTreeMap::new();

		for (id, record) in DatanetRecords::<T>::iter() {
			ensure!(id < NextDatanetId::<T>::get(), "Datanet id not below NextDatanetId");
			let total = owner_deposits.entry(record.owner.clone()).or_default();
			*total = total.saturating_add(record.deposit);
			if record.status == DatanetStatus::Closed {
				ensure!(record.deposit.is_zero(), "closed Datanet still holds a deposit");
			}

			let curators = Curators::<T>::get(id);
			ensure!(!curators.contains(&record.owner), "owner listed as a curator");
			for (i, curator) in curators.iter().enumerate() {
				ensure!(
					!curators.iter().skip(i.saturating_add(1)).any(|c| c == curator),
					"curator listed twice"
				);
			}

			let c = record.counters;
			ensure!(
				DatanetContributions::<T>::iter_prefix(id).count() == c.submitted as usize,
				"submitted counter disagrees with the submission index"
			);
			let mut pending = 0u32;
			for index in 0..c.submitted {
				let cid =
					DatanetContributions::<T>::get(id, index).ok_or("submission index gap")?;
				let contribution =
					Contributions::<T>::get(cid).ok_or("indexed contribution missing")?;
				ensure!(
					contribution.datanet == id && contribution.index == index,
					"submission index points at the wrong contribution"
				);
				if contribution.is_pending() {
					pending = pending.saturating_add(1);
				}
			}
			ensure!(pending == c.pending, "pending counter disagrees with the contributions");
			if record.status == DatanetStatus::Closed {
				ensure!(c.pending == 0, "closed Datanet has pending contributions");
			}
			ensure!(
				c.accepted.saturating_add(c.pending) <= T::MaxAcceptedPerDatanet::get(),
				"Datanet holds more than MaxAcceptedPerDatanet"
			);

			ensure!(
				AcceptedContributions::<T>::iter_prefix(id).count() == c.accepted as usize,
				"accepted counter disagrees with the acceptance order"
			);
			let mut leaves = alloc::vec::Vec::new();
			let mut bytes = 0u64;
			let mut prefix_bytes = alloc::vec::Vec::new();
			for position in 0..c.accepted {
				let cid = AcceptedContributions::<T>::get(id, position).ok_or("acceptance gap")?;
				let contribution =
					Contributions::<T>::get(cid).ok_or("accepted contribution missing")?;
				ensure!(
					contribution.datanet == id
						&& contribution.accepted_position() == Some(position),
					"acceptance order points at the wrong contribution"
				);
				leaves.push(contribution.leaf(cid));
				bytes = bytes.saturating_add(contribution.size);
				prefix_bytes.push(bytes);
			}
			ensure!(bytes == c.accepted_bytes, "accepted_bytes disagrees with the contributions");
			let peaks = AcceptedPeaks::<T>::get(id);
			ensure!(
				merkle::peaks_root(&peaks) == merkle::merkle_root(&leaves),
				"Merkle peaks disagree with the accepted contributions"
			);

			ensure!(
				DatanetSnapshots::<T>::iter_prefix(id).count() == c.snapshots as usize,
				"snapshot counter disagrees with the snapshot index"
			);
			let mut latest = 0u32;
			for version in 1..=c.snapshots {
				let sid = DatanetSnapshots::<T>::get(id, version).ok_or("snapshot version gap")?;
				let snapshot = Snapshots::<T>::get(sid).ok_or("indexed snapshot missing")?;
				ensure!(
					snapshot.datanet == id && snapshot.version == version,
					"snapshot index points at the wrong snapshot"
				);
				ensure!(snapshot.count > latest, "snapshots do not grow");
				let covered = leaves.get(..snapshot.count as usize).ok_or("snapshot too large")?;
				ensure!(
					merkle::merkle_root(covered) == Some(snapshot.root),
					"snapshot root disagrees with its contributions"
				);
				let last = (snapshot.count as usize).checked_sub(1).ok_or("empty snapshot")?;
				ensure!(
					prefix_bytes.get(last) == Some(&snapshot.total_bytes),
					"snapshot total_bytes disagrees with its contributions"
				);
				latest = snapshot.count;
			}
			ensure!(latest == c.snapshotted, "snapshotted disagrees with the latest snapshot");
		}

		for (id, contribution) in Contributions::<T>::iter() {
			ensure!(id < NextContributionId::<T>::get(), "contribution id not below next id");
			ensure!(
				DatanetContributions::<T>::get(contribution.datanet, contribution.index)
					== Some(id),
				"contribution missing from its submission index"
			);
			let holder = ContentHashes::<T>::get(contribution.datanet, contribution.content_hash);
			let standing = standings
				.entry((contribution.datanet, contribution.contributor.clone()))
				.or_default();
			match contribution.status {
				ContributionStatus::Pending => {
					let total =
						pending_deposits.entry(contribution.contributor.clone()).or_default();
					*total = total.saturating_add(contribution.deposit);
					standing.pending = standing.pending.saturating_add(1);
					ensure!(holder == Some(id), "pending contribution does not hold its hash");
				}
				ContributionStatus::Accepted { .. } => {
					standing.accepted = standing.accepted.saturating_add(1);
					ensure!(holder == Some(id), "accepted contribution does not hold its hash");
				}
				ContributionStatus::Rejected { .. } => {
					standing.rejected = standing.rejected.saturating_add(1);
					ensure!(holder == Some(id), "rejected contribution does not hold its hash");
				}
				ContributionStatus::Withdrawn { .. } => {
					ensure!(holder != Some(id), "withdrawn contribution still holds its hash");
				}
			}
		}

		for (datanet, hash, id) in ContentHashes::<T>::iter() {
			let contribution = Contributions::<T>::get(id).ok_or("hash held by no contribution")?;
			ensure!(
				contribution.datanet == datanet && contribution.content_hash == hash,
				"hash held by the wrong contribution"
			);
		}

		for (datanet, who, info) in Contributors::<T>::iter() {
			let counted = standings.remove(&(datanet, who)).unwrap_or_default();
			ensure!(
				info.pending == counted.pending
					&& info.accepted == counted.accepted
					&& info.rejected == counted.rejected,
				"contributor counters disagree with the contributions"
			);
			ensure!(
				info.barred || info.reputation >= T::BarThreshold::get(),
				"contributor below the threshold is not barred"
			);
		}
		ensure!(standings.is_empty(), "contribution without a contributor record");

		for (id, snapshot) in Snapshots::<T>::iter() {
			ensure!(id < NextSnapshotId::<T>::get(), "snapshot id not below next id");
			ensure!(
				DatanetSnapshots::<T>::get(snapshot.datanet, snapshot.version) == Some(id),
				"snapshot missing from its Datanet's index"
			);
		}

		let owner_reason = HoldReason::DatanetDeposit.into();
		let contribution_reason = HoldReason::ContributionDeposit.into();
		let accounts: alloc::collections::btree_set::BTreeSet<_> =
			owner_deposits.keys().chain(pending_deposits.keys()).cloned().collect();
		for who in accounts {
			let owned = owner_deposits.get(&who).copied().unwrap_or_default();
			let pending = pending_deposits.get(&who).copied().unwrap_or_default();
			ensure!(
				T::Currency::balance_on_hold(&owner_reason, &who) == owned,
				"held Datanet deposits disagree with the Datanets"
			);
			ensure!(
				T::Currency::balance_on_hold(&contribution_reason, &who) == pending,
				"held contribution deposits disagree with the pending contributions"
			);
		}
		Ok(())
	}
}
