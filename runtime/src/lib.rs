//! The OpenLedger runtime.
//!
//! OPEN is the native token (18 decimals, SS58 prefix 1612). Its whole fixed supply of
//! 1,000,000,000 OPEN is minted at genesis into five buckets (see [`tokenomics`]): the community
//! and ecosystem pools are keyless accounts that the emissions pallet pays out from later, team
//! and investor allocations vest with `pallet-vesting` (12-month cliff, then 36 months linear),
//! and liquidity is free. Transaction fees are not burned: they go to the treasury account, so
//! total issuance stays exactly at the genesis supply.
//!
//! Consensus is Aura (block production, 6 s slots) with GRANDPA finality. Domain pallets
//! (Datanets, compute, models, attribution, emissions, IAO) plug in beside the system pallets in
//! [`runtime`].

#![cfg_attr(not(feature = "std"), no_std)]
// `#[frame_support::runtime]` expands deeply for this many pallets.
#![recursion_limit = "512"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// This runtime built with `next-spec-version` (`spec_version` one higher): what the
/// runtime-upgrade test enacts through a referendum.
#[cfg(feature = "std")]
pub mod next {
	include!(concat!(env!("OUT_DIR"), "/openledger_runtime_next"));
}

extern crate alloc;

pub mod apis;
pub mod configs;
pub mod genesis;
pub mod governance;
pub mod tokenomics;
pub mod weights;

#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use tokenomics::{EXISTENTIAL_DEPOSIT, MICRO_OPEN, MILLI_OPEN, OPEN};

/// Opaque types that the node uses without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
}

impl_opaque_keys! {
	/// The session keys of a validator: Aura for authoring, GRANDPA for finality.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. `spec_version` must be bumped on every runtime upgrade.
#[cfg(not(feature = "next-spec-version"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("openledger"),
	impl_name: alloc::borrow::Cow::Borrowed("openledger-node"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The runtime's version as built with `next-spec-version`: one `spec_version` higher, so that
/// the runtime-upgrade test has a new runtime to enact.
#[cfg(feature = "next-spec-version")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("openledger"),
	impl_name: alloc::borrow::Cow::Borrowed("openledger-node"),
	authoring_version: 1,
	spec_version: 101,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Target block time: 6 seconds.
pub const MILLISECS_PER_BLOCK: u64 = 6000;
/// Aura slot length; it cannot change once the chain runs.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

/// Blocks in a minute, hour and day at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;
/// A month of 30 days: 432,000 blocks.
pub const MONTHS: BlockNumber = DAYS * 30;

/// Block number.
pub type BlockNumber = u32;
/// Transaction signature (sr25519, ed25519 or ecdsa).
pub type Signature = MultiSignature;
/// Account identifier: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance in plancks: 1 OPEN = 10^18.
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Block and state hash.
pub type Hash = sp_core::H256;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The transaction extensions every signed transaction carries, in this order.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on runtime upgrade, beyond those the pallets declare.
#[allow(unused_parens)]
type Migrations = ();

/// Dispatches blocks and extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The pallets `frame-omni-bencher` measures (built with `--features runtime-benchmarks`).
#[cfg(feature = "runtime-benchmarks")]
mod benches {
	pub use frame_benchmarking::baseline::Pallet as BaselineBench;
	pub use frame_system_benchmarking::Pallet as SystemBench;

	use super::*;

	impl frame_benchmarking::baseline::Config for Runtime {}
	impl frame_system_benchmarking::Config for Runtime {}

	frame_benchmarking::define_benchmarks!(
		[frame_benchmarking, BaselineBench::<Runtime>]
		[frame_system, SystemBench::<Runtime>]
		[pallet_balances, Balances]
		[pallet_datanets, Datanets]
		[pallet_compute, Compute]
		[pallet_models, Models]
		[pallet_inference, Inference]
		[pallet_attribution, Attribution]
		[pallet_emissions, Emissions]
		[pallet_iao, Iao]
		[pallet_validators, Validators]
	);
}

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	// The validator set (chosen by governance) and its session keys, before Aura and GRANDPA:
	// a session change hands them the next authorities, and at genesis Validators must be built
	// before Session asks it for the first set.
	#[runtime::pallet_index(17)]
	pub type Validators = pallet_validators;

	#[runtime::pallet_index(16)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Vesting = pallet_vesting;

	#[runtime::pallet_index(7)]
	pub type Utility = pallet_utility;

	// Dev and test chains only, until governance lands.
	#[runtime::pallet_index(8)]
	pub type Sudo = pallet_sudo;

	// IAO share assets only (created by pallet-iao; its calls are filtered).
	#[runtime::pallet_index(9)]
	pub type Assets = pallet_assets;

	// Governance: referenda decided by conviction voting, enacted by the scheduler.
	#[runtime::pallet_index(10)]
	pub type Preimage = pallet_preimage;

	#[runtime::pallet_index(11)]
	pub type Scheduler = pallet_scheduler;

	#[runtime::pallet_index(12)]
	pub type Referenda = pallet_referenda;

	#[runtime::pallet_index(13)]
	pub type ConvictionVoting = pallet_conviction_voting;

	#[runtime::pallet_index(14)]
	pub type Parameters = pallet_parameters;

	#[runtime::pallet_index(15)]
	pub type Governance = pallet_governance;

	// Domain pallets from index 20.
	#[runtime::pallet_index(20)]
	pub type Datanets = pallet_datanets;

	#[runtime::pallet_index(21)]
	pub type Compute = pallet_compute;

	#[runtime::pallet_index(22)]
	pub type Models = pallet_models;

	#[runtime::pallet_index(23)]
	pub type Inference = pallet_inference;

	#[runtime::pallet_index(24)]
	pub type Attribution = pallet_attribution;

	#[runtime::pallet_index(25)]
	pub type Emissions = pallet_emissions;

	#[runtime::pallet_index(26)]
	pub type Iao = pallet_iao;
}
