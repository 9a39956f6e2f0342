//! The runtime API the node RPC and dApps read Datanets through, and the queries behind it.
//!
//! The runtime implements it by forwarding to the `Pallet::api_*` functions:
//!
//! ```ignore
//! impl pallet_datanets::runtime_api::DatanetsApi<Block, AccountId, Balance, BlockNumber> for Runtime {
//!     fn datanets(start: DatanetId, limit: u32) -> Vec<DatanetView<AccountId, Balance, BlockNumber>> {
//!         Datanets::api_datanets(start, limit)
//!     }
//!     // ... and so on for each function.
//! }
//! ```

use alloc::vec::Vec;
use codec::Codec;
use frame_system::pallet_prelude::BlockNumberFor;

use crate::{
	merkle, types::*, AcceptedContributions, Config, Contributions, Curators, DatanetContributions,
	DatanetRecords, DatanetSnapshots, NextDatanetId, Pallet, Snapshots,
};

/// The most items one paged call returns; larger `limit`s are cut to it.
pub const MAX_PAGE_SIZE: u32 = 1_000;

sp_api::decl_runtime_apis! {
	/// Read access to Datanets, contributions and snapshots.
	pub trait DatanetsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Datanets with ids `start, start + 1, ...`, at most `limit` of them (cut to
		/// [`MAX_PAGE_SIZE`]). Fewer than `limit` means there are no more.
		fn datanets(start: DatanetId, limit: u32) -> Vec<DatanetView<AccountId, Balance, BlockNumber>>;

		/// One Datanet.
		fn datanet(datanet: DatanetId) -> Option<DatanetView<AccountId, Balance, BlockNumber>>;

		/// A Datanet's contributions in submission order from index `start`, at most `limit` of
		/// them (cut to [`MAX_PAGE_SIZE`]).
		fn contributions(
			datanet: DatanetId,
			start: u32,
			limit: u32,
		) -> Vec<ContributionView<AccountId, Balance, BlockNumber>>;

		/// One contribution.
		fn contribution(contribution: ContributionId) -> Option<ContributionView<AccountId, Balance, BlockNumber>>;

		/// A Datanet's snapshots from version `start_version` (versions start at 1), at most
		/// `limit` of them (cut to [`MAX_PAGE_SIZE`]), with their ids.
		fn snapshots(
			datanet: DatanetId,
			start_version: u32,
			limit: u32,
		) -> Vec<(SnapshotId, Snapshot<AccountId, BlockNumber>)>;

		/// One snapshot.
		fn snapshot(snapshot: SnapshotId) -> Option<Snapshot<AccountId, BlockNumber>>;

		/// A Merkle proof that the contribution is in the snapshot, or `None` if it is not.
		fn contribution_proof(snapshot: SnapshotId, contribution: ContributionId) -> Option<ContributionProof>;
	}
}

/// The ids of a page starting at `start` in a sequence of `end` items.
fn page(start: u32, limit: u32, end: u32) -> core::ops::Range<u32> {
	let stop = start.saturating_add(limit.min(MAX_PAGE_SIZE)).min(end);
	start..stop.max(start)
}

impl<T: Config> Pallet<T> {
	/// See [`DatanetsApi::datanets`].
	pub fn api_datanets(
		start: DatanetId,
		limit: u32,
	) -> Vec<DatanetView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		page(start, limit, NextDatanetId::<T>::get()).filter_map(Self::api_datanet).collect()
	}

	/// See [`DatanetsApi::datanet`].
	pub fn api_datanet(
		datanet: DatanetId,
	) -> Option<DatanetView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		DatanetRecords::<T>::get(datanet)
			.map(|record| record.view(datanet, Curators::<T>::get(datanet)))
	}

	/// See [`DatanetsApi::contributions`].
	pub fn api_contributions(
		datanet: DatanetId,
		start: u32,
		limit: u32,
	) -> Vec<ContributionView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let Some(record) = DatanetRecords::<T>::get(datanet) else { return Vec::new() };
		page(start, limit, record.counters.submitted)
			.filter_map(|index| DatanetContributions::<T>::get(datanet, index))
			.filter_map(Self::api_contribution)
			.collect()
	}

	/// See [`DatanetsApi::contribution`].
	pub fn api_contribution(
		contribution: ContributionId,
	) -> Option<ContributionView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		Contributions::<T>::get(contribution).map(|c| c.view(contribution))
	}

	/// See [`DatanetsApi::snapshots`].
	pub fn api_snapshots(
		datanet: DatanetId,
		start_version: u32,
		limit: u32,
	) -> Vec<(SnapshotId, SnapshotOf<T>)> {
		let Some(record) = DatanetRecords::<T>::get(datanet) else { return Vec::new() };
		let end = record.counters.snapshots.saturating_add(1);
		page(start_version.max(1), limit, end)
			.filter_map(|version| DatanetSnapshots::<T>::get(datanet, version))
			.filter_map(|id| Snapshots::<T>::get(id).map(|s| (id, s)))
			.collect()
	}

	/// See [`DatanetsApi::snapshot`].
	pub fn api_snapshot(snapshot: SnapshotId) -> Option<SnapshotOf<T>> {
		Snapshots::<T>::get(snapshot)
	}

	/// See [`DatanetsApi::contribution_proof`]. Reads the snapshot's `count` leaves.
	pub fn api_contribution_proof(
		snapshot: SnapshotId,
		contribution: ContributionId,
	) -> Option<ContributionProof> {
		let header = Snapshots::<T>::get(snapshot)?;
		let record = Contributions::<T>::get(contribution)?;
		let position = record.accepted_position()?;
		if record.datanet != header.datanet || position >= header.count {
			return None;
		}
		// The stored acceptance order is what the root commits to; check it still agrees.
		if AcceptedContributions::<T>::get(header.datanet, position) != Some(contribution) {
			return None;
		}
		let leaves = Self::snapshot_leaves(&header)?;
		let proof = merkle::merkle_proof(&leaves, position)?;
		Some(ContributionProof {
			snapshot,
			contribution,
			content_hash: record.content_hash,
			size: record.size,
			leaf: record.leaf(contribution),
			root: header.root,
			proof,
		})
	}
}
