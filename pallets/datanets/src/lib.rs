//! # Datanets pallet
//!
//! Datanets are where specialized data enters OpenLedger. Attribution and payouts later point back
//! to their contributions, so the records kept here are exact and never rewritten.
//!
//! ## Flow
//!
//! 1. An owner [`create_datanet`](Pallet::create_datanet)s: name, description, domain tags,
//!    licence, contribution rules (largest size, allowed media types) and a training access policy
//!    (public, allowlist, or a fee per training use). [`Config::DatanetDeposit`] is held from the
//!    owner under [`HoldReason::DatanetDeposit`]. The owner manages curators, may change the access
//!    policy, and may pause, reopen or close the Datanet.
//! 2. A contributor [`contribute`](Pallet::contribute)s a content hash (blake2-256 of the bytes),
//!    size, media type, locator and metadata; [`Config::ContributionDeposit`] is held under
//!    [`HoldReason::ContributionDeposit`]. Exact duplicates (same hash in the same Datanet) are
//!    refused.
//! 3. A curator (or the owner), never the contributor, [`curate`](Pallet::curate)s it. Accepting
//!    releases the deposit, appends the contribution to the Datanet's acceptance order and raises
//!    the contributor's reputation there. Rejecting slashes the deposit ([`Config::SlashToTreasury`]
//!    of it to [`Config::TreasuryAccount`], the rest to the curator) and lowers the reputation; below
//!    [`Config::BarThreshold`] the contributor is barred from that Datanet. The contributor may
//!    [`withdraw`](Pallet::withdraw) a pending contribution and get the deposit back.
//! 4. The owner or a curator cuts a [`snapshot`](Pallet::snapshot): an immutable version covering
//!    the first `count` accepted contributions, with their binary Merkle root (see [`merkle`]),
//!    count and total bytes. Training jobs reference snapshots, never the live set.
//!
//! Other pallets use the [`traits::DatanetsInspect`] trait (implemented by [`Pallet`]); the node
//! and dApps use the [`runtime_api::DatanetsApi`] runtime API.
//!
//! ## Rules worth knowing
//!
//! - Closing needs no pending contributions; it releases the owner's deposit and is final.
//! - A Datanet holds at most [`Config::MaxAcceptedPerDatanet`] accepted plus pending
//!   contributions, so every pending contribution can be accepted and every snapshot is bounded.
//! - Rejected content hashes stay refused in their Datanet; withdrawn ones are freed.
//! - If the treasury account cannot receive its share of a slash (it does not exist and the share
//!   is below the existential deposit), that share goes to the curator too; nothing is burned.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
pub mod merkle;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod traits;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
pub mod weights;

// FRAME's pallet macros expand to `expect` (storage prefixes, pallet names); the hand-written
// modules (`impls`, `merkle`, `types`, ...) keep the workspace's lints.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{traits::StaticLookup, Perbill};

	type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A Datanet owner's deposit, released when the Datanet is closed.
		#[codec(index = 0)]
		DatanetDeposit,
		/// A contributor's deposit for a pending contribution: released on acceptance or
		/// withdrawal, slashed on rejection.
		#[codec(index = 1)]
		ContributionDeposit,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency deposits are held in and training fees are paid in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason: From<HoldReason>>;

		/// Held from the owner while a Datanet is not closed.
		#[pallet::constant]
		type DatanetDeposit: Get<BalanceOf<Self>>;

		/// Held from the contributor while a contribution is pending.
		#[pallet::constant]
		type ContributionDeposit: Get<BalanceOf<Self>>;

		/// Receives [`Config::SlashToTreasury`] of each slashed contribution deposit.
		#[pallet::constant]
		type TreasuryAccount: Get<Self::AccountId>;

		/// The treasury's share of a slashed contribution deposit (rounded down); the rejecting
		/// curator gets the rest.
		#[pallet::constant]
		type SlashToTreasury: Get<Perbill>;

		/// Reputation gained in a Datanet per accepted contribution.
		#[pallet::constant]
		type ReputationReward: Get<u32>;

		/// Reputation lost in a Datanet per rejected contribution.
		#[pallet::constant]
		type ReputationPenalty: Get<u32>;

		/// A contributor whose reputation in a Datanet falls below this is barred from it.
		#[pallet::constant]
		type BarThreshold: Get<i32>;

		/// Longest Datanet name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest Datanet description, in bytes.
		#[pallet::constant]
		type MaxDescriptionLen: Get<u32>;

		/// Longest domain tag, in bytes.
		#[pallet::constant]
		type MaxTagLen: Get<u32>;

		/// Most domain tags per Datanet.
		#[pallet::constant]
		type MaxTags: Get<u32>;

		/// Longest licence identifier, in bytes.
		#[pallet::constant]
		type MaxLicenseLen: Get<u32>;

		/// Longest media type, in bytes.
		#[pallet::constant]
		type MaxMediaTypeLen: Get<u32>;

		/// Most allowed media types per Datanet.
		#[pallet::constant]
		type MaxMediaTypes: Get<u32>;

		/// Most accounts in an allowlist access policy.
		#[pallet::constant]
		type MaxAllowlist: Get<u32>;

		/// Most curators per Datanet (the owner not counted).
		#[pallet::constant]
		type MaxCurators: Get<u32>;

		/// Longest contribution locator, in bytes.
		#[pallet::constant]
		type MaxLocatorLen: Get<u32>;

		/// Longest contribution metadata, in bytes.
		#[pallet::constant]
		type MaxMetadataLen: Get<u32>;

		/// Most pending contributions one account may have in one Datanet.
		#[pallet::constant]
		type MaxPendingPerContributor: Get<u32>;

		/// Most accepted plus pending contributions in one Datanet; so also the largest snapshot.
		#[pallet::constant]
		type MaxAcceptedPerDatanet: Get<u32>;

		/// Told of each accepted contribution (emissions for curators, in the runtime).
		type OnAccepted: crate::traits::OnContributionAccepted<Self::AccountId>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The id the next Datanet gets.
	#[pallet::storage]
	pub type NextDatanetId<T> = StorageValue<_, DatanetId, ValueQuery>;

	/// Every Datanet ever created, by id.
	#[pallet::storage]
	pub type DatanetRecords<T: Config> = StorageMap<_, Twox64Concat, DatanetId, Datanet<T>>;

	/// Each Datanet's curators, besides its owner.
	#[pallet::storage]
	pub type Curators<T: Config> =
		StorageMap<_, Twox64Concat, DatanetId, CuratorsOf<T>, ValueQuery>;

	/// The id the next contribution gets.
	#[pallet::storage]
	pub type NextContributionId<T> = StorageValue<_, ContributionId, ValueQuery>;

	/// Every contribution ever submitted, by id.
	#[pallet::storage]
	pub type Contributions<T: Config> =
		StorageMap<_, Twox64Concat, ContributionId, Contribution<T>>;

	/// Each Datanet's contributions in submission order: `(datanet, index) -> contribution`.
	#[pallet::storage]
	pub type DatanetContributions<T> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Twox64Concat, u32, ContributionId>;

	/// Each Datanet's accepted contributions in acceptance order: `(datanet, position) ->
	/// contribution`. Append-only; a snapshot of count `n` covers positions `0..n`.
	#[pallet::storage]
	pub type AcceptedContributions<T> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Twox64Concat, u32, ContributionId>;

	/// The contribution that holds each content hash in a Datanet: pending, accepted or rejected
	/// ones (withdrawn ones free their hash).
	#[pallet::storage]
	pub type ContentHashes<T> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Blake2_128Concat, H256, ContributionId>;

	/// Each contributor's standing in each Datanet they contributed to.
	#[pallet::storage]
	pub type Contributors<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DatanetId,
		Blake2_128Concat,
		T::AccountId,
		ContributorInfo,
	>;

	/// The Merkle peaks of each Datanet's accepted contributions (see [`crate::merkle`]), kept so
	/// that a snapshot's root costs `O(log n)` hashes.
	#[pallet::storage]
	pub type AcceptedPeaks<T> = StorageMap<_, Twox64Concat, DatanetId, MerklePeaks, ValueQuery>;

	/// The id the next snapshot gets.
	#[pallet::storage]
	pub type NextSnapshotId<T> = StorageValue<_, SnapshotId, ValueQuery>;

	/// Every snapshot ever cut, by id. Never changed once written.
	#[pallet::storage]
	pub type Snapshots<T: Config> = StorageMap<_, Twox64Concat, SnapshotId, SnapshotOf<T>>;

	/// Each Datanet's snapshots by version: `(datanet, version) -> snapshot`.
	#[pallet::storage]
	pub type DatanetSnapshots<T> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Twox64Concat, u32, SnapshotId>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A Datanet was created and its owner's deposit held.
		DatanetCreated {
			datanet: DatanetId,
			owner: T::AccountId,
			name: NameOf<T>,
			description: DescriptionOf<T>,
			tags: TagsOf<T>,
			license: LicenseOf<T>,
			rules: ContributionRulesOf<T>,
			access: AccessPolicyOf<T>,
			deposit: BalanceOf<T>,
		},
		/// A curator was added to a Datanet.
		CuratorAdded { datanet: DatanetId, curator: T::AccountId },
		/// A curator was removed from a Datanet.
		CuratorRemoved { datanet: DatanetId, curator: T::AccountId },
		/// A Datanet's training access policy was replaced.
		AccessPolicySet { datanet: DatanetId, access: AccessPolicyOf<T> },
		/// A Datanet stopped taking contributions.
		DatanetPaused { datanet: DatanetId },
		/// A paused Datanet takes contributions again.
		DatanetReopened { datanet: DatanetId },
		/// A Datanet was closed for good and its owner's deposit released.
		DatanetClosed { datanet: DatanetId, owner: T::AccountId, deposit_released: BalanceOf<T> },
		/// A contribution was submitted and its deposit held.
		ContributionSubmitted {
			contribution: ContributionId,
			datanet: DatanetId,
			index: u32,
			contributor: T::AccountId,
			content_hash: H256,
			size: u64,
			media_type: MediaTypeOf<T>,
			locator: LocatorOf<T>,
			metadata: MetadataOf<T>,
			deposit: BalanceOf<T>,
		},
		/// A contribution was accepted at `position` in its Datanet's acceptance order, its
		/// deposit released and its contributor's reputation raised to `reputation`.
		ContributionAccepted {
			contribution: ContributionId,
			datanet: DatanetId,
			contributor: T::AccountId,
			curator: T::AccountId,
			position: u32,
			leaf: H256,
			deposit_released: BalanceOf<T>,
			reputation: i32,
		},
		/// A contribution was rejected, its deposit slashed to the treasury and the curator, and
		/// its contributor's reputation lowered to `reputation`.
		ContributionRejected {
			contribution: ContributionId,
			datanet: DatanetId,
			contributor: T::AccountId,
			curator: T::AccountId,
			reason: RejectReason,
			to_treasury: BalanceOf<T>,
			to_curator: BalanceOf<T>,
			reputation: i32,
		},
		/// A contributor's reputation fell below the threshold: barred from the Datanet.
		ContributorBarred { datanet: DatanetId, contributor: T::AccountId, reputation: i32 },
		/// A pending contribution was withdrawn and its deposit returned.
		ContributionWithdrawn {
			contribution: ContributionId,
			datanet: DatanetId,
			contributor: T::AccountId,
			deposit_released: BalanceOf<T>,
		},
		/// A snapshot was cut.
		SnapshotCreated {
			snapshot: SnapshotId,
			datanet: DatanetId,
			version: u32,
			root: H256,
			count: u32,
			total_bytes: u64,
			created_by: T::AccountId,
		},
		/// An account was admitted to a training use of a snapshot, paying `fee` to the owner.
		TrainingAccessCharged {
			snapshot: SnapshotId,
			datanet: DatanetId,
			who: T::AccountId,
			owner: T::AccountId,
			fee: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No Datanet has this id.
		DatanetNotFound,
		/// Only the Datanet's owner may do this.
		NotOwner,
		/// Only the Datanet's owner or one of its curators may do this.
		NotCurator,
		/// The account already curates this Datanet (the owner always does).
		AlreadyCurator,
		/// The account is not a curator of this Datanet.
		CuratorNotFound,
		/// The Datanet has the most curators allowed.
		TooManyCurators,
		/// A Datanet needs a name.
		EmptyName,
		/// Contribution rules need a largest size of at least one byte and at least one media type.
		InvalidRules,
		/// The Datanet is not open for contributions.
		DatanetNotOpen,
		/// The Datanet is not paused.
		DatanetNotPaused,
		/// The Datanet is closed.
		DatanetClosed,
		/// The Datanet still has pending contributions.
		PendingContributionsRemain,
		/// A contribution must have at least one byte.
		EmptyContribution,
		/// The contribution is larger than the Datanet's rules allow.
		ContributionTooLarge,
		/// The Datanet's rules do not allow this media type.
		MediaTypeNotAllowed,
		/// This content hash was already contributed to this Datanet.
		DuplicateContribution,
		/// The account is barred from contributing to this Datanet.
		ContributorBarred,
		/// The account has the most pending contributions allowed in this Datanet.
		TooManyPendingContributions,
		/// The Datanet holds the most accepted plus pending contributions allowed.
		DatanetFull,
		/// No contribution has this id.
		ContributionNotFound,
		/// The contribution is not pending.
		ContributionNotPending,
		/// Only the contributor may do this.
		NotContributor,
		/// A curator may not curate their own contribution.
		CannotCurateOwnContribution,
		/// No contribution was accepted since the latest snapshot.
		NothingNewToSnapshot,
		/// No snapshot has this id.
		SnapshotNotFound,
		/// The Datanet's access policy does not let this account train on it.
		TrainingNotAllowed,
		/// The Datanet's stored Merkle peaks do not match its accepted count.
		CorruptMerklePeaks,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxAcceptedPerDatanet::get() > 0, "a Datanet must take a contribution");
			assert!(T::MaxPendingPerContributor::get() > 0, "a contributor must have one pending");
			assert!(T::MaxMediaTypes::get() > 0, "rules need at least one media type");
			assert!(T::MaxNameLen::get() > 0, "a Datanet needs a name");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates a Datanet owned by the caller and holds [`Config::DatanetDeposit`] from them.
		///
		/// Emits `DatanetCreated`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_datanet())]
		pub fn create_datanet(
			origin: OriginFor<T>,
			name: NameOf<T>,
			description: DescriptionOf<T>,
			tags: TagsOf<T>,
			license: LicenseOf<T>,
			rules: ContributionRulesOf<T>,
			access: AccessPolicyOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_create_datanet(owner, name, description, tags, license, rules, access)?;
			Ok(())
		}

		/// Adds a curator to the caller's Datanet. The Datanet must not be closed.
		///
		/// Emits `CuratorAdded`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::add_curator())]
		pub fn add_curator(
			origin: OriginFor<T>,
			datanet: DatanetId,
			curator: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let curator = T::Lookup::lookup(curator)?;
			Self::do_add_curator(&owner, datanet, curator)
		}

		/// Removes a curator from the caller's Datanet.
		///
		/// Emits `CuratorRemoved`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::remove_curator())]
		pub fn remove_curator(
			origin: OriginFor<T>,
			datanet: DatanetId,
			curator: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let curator = T::Lookup::lookup(curator)?;
			Self::do_remove_curator(&owner, datanet, curator)
		}

		/// Replaces the training access policy of the caller's Datanet. Applies to all its
		/// snapshots from now on.
		///
		/// Emits `AccessPolicySet`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_access_policy())]
		pub fn set_access_policy(
			origin: OriginFor<T>,
			datanet: DatanetId,
			access: AccessPolicyOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_set_access_policy(&owner, datanet, access)
		}

		/// Stops the caller's open Datanet from taking contributions. Curation, withdrawal and
		/// snapshots go on.
		///
		/// Emits `DatanetPaused`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::pause_datanet())]
		pub fn pause_datanet(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_pause(&owner, datanet)
		}

		/// Lets the caller's paused Datanet take contributions again.
		///
		/// Emits `DatanetReopened`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::reopen_datanet())]
		pub fn reopen_datanet(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_reopen(&owner, datanet)
		}

		/// Closes the caller's Datanet for good and releases the owner's deposit. Needs no
		/// pending contributions. Snapshots already cut stay valid.
		///
		/// Emits `DatanetClosed`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::close_datanet())]
		pub fn close_datanet(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_close(&owner, datanet)
		}

		/// Submits a contribution to an open Datanet and holds [`Config::ContributionDeposit`]
		/// from the caller.
		///
		/// `content_hash` is the blake2-256 of the content bytes, `size` their length, `locator`
		/// where they can be fetched.
		///
		/// Emits `ContributionSubmitted`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::contribute())]
		pub fn contribute(
			origin: OriginFor<T>,
			datanet: DatanetId,
			content_hash: H256,
			size: u64,
			media_type: MediaTypeOf<T>,
			locator: LocatorOf<T>,
			metadata: MetadataOf<T>,
		) -> DispatchResult {
			let contributor = ensure_signed(origin)?;
			Self::do_contribute(
				contributor,
				datanet,
				content_hash,
				size,
				media_type,
				locator,
				metadata,
			)?;
			Ok(())
		}

		/// Accepts or rejects a pending contribution. The caller must be the Datanet's owner or a
		/// curator, and not the contributor.
		///
		/// Emits `ContributionAccepted`, or `ContributionRejected` (and `ContributorBarred` when
		/// the contributor's reputation falls below the threshold).
		#[pallet::call_index(8)]
		#[pallet::weight(
			T::WeightInfo::curate_accept()
				.saturating_add(<T::OnAccepted as crate::traits::OnContributionAccepted<T::AccountId>>::weight())
				.max(T::WeightInfo::curate_reject())
		)]
		pub fn curate(
			origin: OriginFor<T>,
			contribution: ContributionId,
			verdict: Verdict,
		) -> DispatchResultWithPostInfo {
			let curator = ensure_signed(origin)?;
			Self::do_curate(curator, contribution, verdict)?;
			let actual = match verdict {
				Verdict::Accept => T::WeightInfo::curate_accept()
					.saturating_add(<T::OnAccepted as crate::traits::OnContributionAccepted<
						T::AccountId,
					>>::weight()),
				Verdict::Reject(_) => T::WeightInfo::curate_reject(),
			};
			Ok(Some(actual).into())
		}

		/// Withdraws the caller's pending contribution and returns its deposit. Its content hash
		/// may be contributed again.
		///
		/// Emits `ContributionWithdrawn`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>, contribution: ContributionId) -> DispatchResult {
			let contributor = ensure_signed(origin)?;
			Self::do_withdraw(contributor, contribution)
		}

		/// Cuts a snapshot of the Datanet: all contributions accepted so far, in acceptance
		/// order, under their Merkle root. The caller must be the owner or a curator, and a
		/// contribution must have been accepted since the latest snapshot.
		///
		/// Emits `SnapshotCreated`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::snapshot())]
		pub fn snapshot(origin: OriginFor<T>, datanet: DatanetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_snapshot(who, datanet)?;
			Ok(())
		}
	}
}
