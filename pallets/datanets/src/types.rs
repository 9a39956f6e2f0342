//! Domain types: Datanets, contributions, contributors, snapshots, and the plain views the runtime
//! API returns.

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{fungible, ConstU32},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;

/// Identifies a Datanet. Assigned sequentially from 0; Datanets are never deleted.
pub type DatanetId = u32;
/// Identifies a contribution across all Datanets. Assigned sequentially from 0; never reused.
pub type ContributionId = u64;
/// Identifies a snapshot across all Datanets. Assigned sequentially from 0; never reused.
pub type SnapshotId = u32;
/// A curator's reason for rejecting a contribution. The chain does not interpret it; each
/// Datanet's published rules say what the codes mean (for example 1 spam, 2 off-topic,
/// 3 licence problem, 4 malformed).
pub type RejectReason = u8;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A Datanet's name.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
/// A Datanet's description.
pub type DescriptionOf<T> = BoundedVec<u8, <T as Config>::MaxDescriptionLen>;
/// One domain tag.
pub type TagOf<T> = BoundedVec<u8, <T as Config>::MaxTagLen>;
/// A Datanet's domain tags.
pub type TagsOf<T> = BoundedVec<TagOf<T>, <T as Config>::MaxTags>;
/// A licence identifier (an SPDX expression or a URL).
pub type LicenseOf<T> = BoundedVec<u8, <T as Config>::MaxLicenseLen>;
/// A media type such as `text/plain` or `application/jsonl`.
pub type MediaTypeOf<T> = BoundedVec<u8, <T as Config>::MaxMediaTypeLen>;
/// Where a contribution's bytes live: a URL or a content-store path.
pub type LocatorOf<T> = BoundedVec<u8, <T as Config>::MaxLocatorLen>;
/// Free-form contribution metadata (for example a JSON object with a title and a language).
pub type MetadataOf<T> = BoundedVec<u8, <T as Config>::MaxMetadataLen>;
/// The curators of one Datanet.
pub type CuratorsOf<T> =
	BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxCurators>;
/// A Datanet's contribution rules as stored.
pub type ContributionRulesOf<T> =
	ContributionRules<BoundedVec<MediaTypeOf<T>, <T as Config>::MaxMediaTypes>>;
/// A Datanet's training access policy as stored.
pub type AccessPolicyOf<T> = AccessPolicy<
	BalanceOf<T>,
	BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxAllowlist>,
>;
/// A contribution's status with the runtime's block number.
pub type ContributionStatusOf<T> = ContributionStatus<BlockNumberFor<T>>;
/// A snapshot with the runtime's account and block number types.
pub type SnapshotOf<T> = Snapshot<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;
/// The peaks of a Datanet's accepted-contributions Merkle tree (see [`crate::merkle`]). A count of
/// `n` leaves has one peak per set bit of `n`, so 32 peaks cover any `u32` count.
pub type MerklePeaks = BoundedVec<H256, ConstU32<32>>;

/// What a contribution must look like to be submitted to a Datanet.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct ContributionRules<MediaTypes> {
	/// The largest contribution accepted, in bytes of content. At least 1.
	pub max_bytes: u64,
	/// The media types accepted. At least one.
	pub media_types: MediaTypes,
}

/// Who may train on a Datanet's snapshots. The owner always may, free of charge.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub enum AccessPolicy<Balance, Accounts> {
	/// Anyone, free of charge.
	Public,
	/// Only these accounts (and the owner), free of charge.
	Allowlist(Accounts),
	/// Anyone who pays this fee to the owner for each training use.
	FeePerUse(Balance),
}

/// Where a Datanet is in its life.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DatanetStatus {
	/// Takes contributions; pending contributions are curated; snapshots may be cut.
	Open,
	/// Takes no new contributions; pending ones are still curated and withdrawn; snapshots may
	/// be cut. The owner may reopen it.
	Paused,
	/// Final. Takes no contributions and has none pending; the owner's deposit has been
	/// released. Its snapshots stay valid and may still be trained on under its access policy.
	Closed,
}

/// Running totals of one Datanet, kept exact by every call and checked by `try_state`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct DatanetCounters {
	/// Contributions ever submitted; the next contribution's position in submission order.
	pub submitted: u32,
	/// Contributions now pending.
	pub pending: u32,
	/// Contributions accepted; the next accepted contribution's position in acceptance order.
	pub accepted: u32,
	/// Total size in bytes of the accepted contributions.
	pub accepted_bytes: u64,
	/// Snapshots cut; the latest snapshot's version.
	pub snapshots: u32,
	/// How many accepted contributions the latest snapshot covers (0 before the first).
	pub snapshotted: u32,
}

/// A Datanet as stored.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Datanet<T: Config> {
	/// The account that created it, manages its curators and policy, and holds its deposit.
	pub owner: T::AccountId,
	/// Human-readable name. Not empty.
	pub name: NameOf<T>,
	/// What the Datanet is for and what belongs in it.
	pub description: DescriptionOf<T>,
	/// Domain tags (for example `medicine`, `solidity`).
	pub tags: TagsOf<T>,
	/// The licence contributions are made under.
	pub license: LicenseOf<T>,
	/// What a contribution must look like.
	pub rules: ContributionRulesOf<T>,
	/// Who may train on its snapshots.
	pub access: AccessPolicyOf<T>,
	/// Open, paused or closed.
	pub status: DatanetStatus,
	/// The owner's deposit still on hold for it (zero once closed).
	pub deposit: BalanceOf<T>,
	/// The block it was created in.
	pub created_at: BlockNumberFor<T>,
	/// Running totals.
	pub counters: DatanetCounters,
}

/// Where a contribution is in curation.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ContributionStatus<BlockNumber> {
	/// Waiting for a curator; its deposit is on hold.
	Pending,
	/// Accepted at `position` in the Datanet's acceptance order (its leaf index in every snapshot
	/// that covers it). Final.
	Accepted {
		/// Position in acceptance order, from 0.
		position: u32,
		/// The block it was accepted in.
		at: BlockNumber,
	},
	/// Rejected by a curator and its deposit slashed. Final; its content hash stays refused.
	Rejected {
		/// The curator's reason code.
		reason: RejectReason,
		/// The block it was rejected in.
		at: BlockNumber,
	},
	/// Withdrawn by its contributor and its deposit returned. Final; its content hash is free
	/// to be contributed again.
	Withdrawn {
		/// The block it was withdrawn in.
		at: BlockNumber,
	},
}

/// A contribution as stored.
#[derive(
	Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Contribution<T: Config> {
	/// The Datanet it was submitted to.
	pub datanet: DatanetId,
	/// Its position in the Datanet's submission order, from 0.
	pub index: u32,
	/// Who submitted it.
	pub contributor: T::AccountId,
	/// blake2-256 of the content bytes.
	pub content_hash: H256,
	/// Size of the content in bytes.
	pub size: u64,
	/// Media type of the content.
	pub media_type: MediaTypeOf<T>,
	/// Where the content bytes are.
	pub locator: LocatorOf<T>,
	/// Free-form metadata.
	pub metadata: MetadataOf<T>,
	/// The deposit held for it while pending (what was held at submission).
	pub deposit: BalanceOf<T>,
	/// Pending, accepted, rejected or withdrawn.
	pub status: ContributionStatusOf<T>,
	/// The block it was submitted in.
	pub submitted_at: BlockNumberFor<T>,
}

/// One contributor's standing in one Datanet.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ContributorInfo {
	/// Raised by `ReputationReward` on each acceptance, lowered by `ReputationPenalty` on each
	/// rejection (saturating).
	pub reputation: i32,
	/// Contributions now pending.
	pub pending: u32,
	/// Contributions accepted.
	pub accepted: u32,
	/// Contributions rejected.
	pub rejected: u32,
	/// Set when reputation fell below `BarThreshold`; a barred account may not contribute to
	/// this Datanet again.
	pub barred: bool,
}

/// An immutable version of a Datanet: the first `count` contributions of its acceptance order.
///
/// Accepted contributions are never removed or reordered, so that prefix never changes; `root`
/// commits to it (see [`crate::merkle`] for the tree).
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Snapshot<AccountId, BlockNumber> {
	/// The Datanet it versions.
	pub datanet: DatanetId,
	/// Its version within the Datanet, from 1.
	pub version: u32,
	/// Merkle root over the covered contributions' leaves, in acceptance order.
	pub root: H256,
	/// How many contributions it covers.
	pub count: u32,
	/// Total size in bytes of the covered contributions.
	pub total_bytes: u64,
	/// The owner or curator who cut it.
	pub created_by: AccountId,
	/// The block it was cut in.
	pub created_at: BlockNumber,
}

/// How a curator decides a pending contribution.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Verdict {
	/// Accept it into the Datanet.
	Accept,
	/// Reject it, with a reason code.
	Reject(RejectReason),
}

/// What other pallets need to know about a snapshot.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub struct SnapshotSummary {
	/// The Datanet it versions.
	pub datanet: DatanetId,
	/// Its version within the Datanet, from 1.
	pub version: u32,
	/// Merkle root over the covered contributions.
	pub root: H256,
	/// How many contributions it covers.
	pub count: u32,
	/// Total size in bytes of the covered contributions.
	pub total_bytes: u64,
}

/// A Datanet as the runtime API returns it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct DatanetView<AccountId, Balance, BlockNumber> {
	/// Its id.
	pub id: DatanetId,
	/// Its owner.
	pub owner: AccountId,
	/// Name.
	pub name: Vec<u8>,
	/// Description.
	pub description: Vec<u8>,
	/// Domain tags.
	pub tags: Vec<Vec<u8>>,
	/// Licence.
	pub license: Vec<u8>,
	/// Contribution rules.
	pub rules: ContributionRules<Vec<Vec<u8>>>,
	/// Training access policy.
	pub access: AccessPolicy<Balance, Vec<AccountId>>,
	/// Open, paused or closed.
	pub status: DatanetStatus,
	/// The owner's deposit still held.
	pub deposit: Balance,
	/// Creation block.
	pub created_at: BlockNumber,
	/// Curators (besides the owner).
	pub curators: Vec<AccountId>,
	/// Running totals.
	pub counters: DatanetCounters,
}

/// A contribution as the runtime API returns it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct ContributionView<AccountId, Balance, BlockNumber> {
	/// Its id.
	pub id: ContributionId,
	/// The Datanet it was submitted to.
	pub datanet: DatanetId,
	/// Position in the Datanet's submission order.
	pub index: u32,
	/// Contributor.
	pub contributor: AccountId,
	/// blake2-256 of the content.
	pub content_hash: H256,
	/// Size in bytes.
	pub size: u64,
	/// Media type.
	pub media_type: Vec<u8>,
	/// Where the bytes are.
	pub locator: Vec<u8>,
	/// Metadata.
	pub metadata: Vec<u8>,
	/// Deposit held at submission.
	pub deposit: Balance,
	/// Curation status.
	pub status: ContributionStatus<BlockNumber>,
	/// Submission block.
	pub submitted_at: BlockNumber,
}

/// A proof that a contribution is in a snapshot, as the runtime API returns it. Check it against
/// the snapshot's root and count with [`crate::merkle::verify_contribution`].
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct ContributionProof {
	/// The snapshot.
	pub snapshot: SnapshotId,
	/// The contribution.
	pub contribution: ContributionId,
	/// Its content hash.
	pub content_hash: H256,
	/// Its size in bytes.
	pub size: u64,
	/// Its leaf in the snapshot's tree.
	pub leaf: H256,
	/// The snapshot's Merkle root.
	pub root: H256,
	/// The Merkle path from the leaf to the root.
	pub proof: crate::merkle::MerkleProof,
}

impl<T: Config> Datanet<T> {
	/// The plain view of this Datanet for the runtime API.
	pub fn view(
		&self,
		id: DatanetId,
		curators: CuratorsOf<T>,
	) -> DatanetView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> {
		DatanetView {
			id,
			owner: self.owner.clone(),
			name: self.name.to_vec(),
			description: self.description.to_vec(),
			tags: self.tags.iter().map(|t| t.to_vec()).collect(),
			license: self.license.to_vec(),
			rules: ContributionRules {
				max_bytes: self.rules.max_bytes,
				media_types: self.rules.media_types.iter().map(|m| m.to_vec()).collect(),
			},
			access: match &self.access {
				AccessPolicy::Public => AccessPolicy::Public,
				AccessPolicy::Allowlist(accounts) => AccessPolicy::Allowlist(accounts.to_vec()),
				AccessPolicy::FeePerUse(fee) => AccessPolicy::FeePerUse(*fee),
			},
			status: self.status,
			deposit: self.deposit,
			created_at: self.created_at,
			curators: curators.into_inner(),
			counters: self.counters,
		}
	}
}

impl<T: Config> Contribution<T> {
	/// The plain view of this contribution for the runtime API.
	pub fn view(
		&self,
		id: ContributionId,
	) -> ContributionView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> {
		ContributionView {
			id,
			datanet: self.datanet,
			index: self.index,
			contributor: self.contributor.clone(),
			content_hash: self.content_hash,
			size: self.size,
			media_type: self.media_type.to_vec(),
			locator: self.locator.to_vec(),
			metadata: self.metadata.to_vec(),
			deposit: self.deposit,
			status: self.status,
			submitted_at: self.submitted_at,
		}
	}

	/// Whether it still waits for a curator.
	pub fn is_pending(&self) -> bool {
		matches!(self.status, ContributionStatus::Pending)
	}

	/// Its position in acceptance order, if accepted.
	pub fn accepted_position(&self) -> Option<u32> {
		match self.status {
			ContributionStatus::Accepted { position, .. } => Some(position),
			_ => None,
		}
	}

	/// Its leaf in the Merkle tree of any snapshot that covers it.
	pub fn leaf(&self, id: ContributionId) -> H256 {
		crate::merkle::leaf_hash(id, &self.content_hash, self.size)
	}
}

impl<Balance, Accounts> AccessPolicy<Balance, Accounts> {
	/// The fee per training use, if the policy charges one.
	pub fn fee(&self) -> Option<&Balance> {
		match self {
			AccessPolicy::FeePerUse(fee) => Some(fee),
			_ => None,
		}
	}
}
