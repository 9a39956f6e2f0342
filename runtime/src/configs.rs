//! Configuration of the pallets: consensus, the OPEN token, fees, vesting, Datanets, compute,
//! models, inference, attribution, emissions, IAOs and their share assets.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{
		fungible::{Balanced, Credit},
		ConstBool, ConstI32, ConstU128, ConstU32, ConstU64, ConstU8, OnUnbalanced, VariantCountOf,
		WithdrawReasons,
	},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{ConvertInto, One},
	Perbill,
};
use sp_version::RuntimeVersion;

// `derive_impl` injects RuntimeOrigin, RuntimeCall, RuntimeEvent, RuntimeTask and PalletInfo.
use super::{
	tokenomics::{self, EXISTENTIAL_DEPOSIT, MICRO_OPEN, MILLI_OPEN, OPEN},
	AccountId, Assets, Attribution, Aura, Balance, Balances, Block, BlockNumber, Compute, Datanets,
	Emissions, Hash, Iao, Inference, Models, Nonce, PalletInfo, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Signature, System, DAYS,
	HOURS, SLOT_DURATION, VERSION,
};

use crate::governance::{dynamic_params, ParameterOrigin};

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of compute in a six-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength =
		BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO.mul_floor(*max))
		.build();
	/// OpenLedger's SS58 address prefix.
	pub const SS58Prefix: u16 = tokenomics::SS58_PREFIX;
}

/// What signed accounts may not call directly:
/// - the assets pallet: its only assets are IAO shares, which move through
///   `Iao::transfer_shares` alone (so the revenue accounting follows them);
/// - `Models::set_active_version` for a model whose offering succeeded: its shareholders choose
///   the active version by vote (pallet-iao activates it).
pub struct OpenLedgerCallFilter;

impl frame_support::traits::Contains<RuntimeCall> for OpenLedgerCallFilter {
	fn contains(call: &RuntimeCall) -> bool {
		match call {
			RuntimeCall::Assets(_) => false,
			RuntimeCall::Models(pallet_models::Call::set_active_version { model, .. }) => {
				<Iao as pallet_iao::traits::ModelRevenue<AccountId>>::revenue_account(*model)
					.is_none()
			}
			_ => true,
		}
	}
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type BaseCallFilter = OpenLedgerCallFilter;
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node runs ParityDB only.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

/// Blocks per session: an hour on a public chain, 10 blocks (a minute) on dev and local chains,
/// whose governance runs at the dev pace.
pub struct SessionPeriod;

impl frame_support::traits::Get<BlockNumber> for SessionPeriod {
	fn get() -> BlockNumber {
		match pallet_governance::Pallet::<Runtime>::pace() {
			pallet_governance::GovernancePace::Public => HOURS,
			pallet_governance::GovernancePace::Dev => DEV_SESSION_PERIOD,
		}
	}
}

/// Session length of dev and local chains.
pub const DEV_SESSION_PERIOD: BlockNumber = 10;

/// Sessions start every [`SessionPeriod`] blocks.
pub type Sessions = pallet_session::PeriodicSessions<SessionPeriod, ConstU32<0>>;

parameter_types! {
	/// Setting session keys holds 1 OPEN until they are purged.
	pub const SessionKeyDeposit: Balance = OPEN;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// A validator is known by its account.
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Sessions;
	type NextSessionRotation = Sessions;
	/// The validators governance listed that have set their keys.
	type SessionManager = super::Validators;
	type SessionHandler =
		<super::SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = super::SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

impl pallet_validators::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// A root-track referendum.
	type ManagerOrigin = frame_system::EnsureRoot<AccountId>;
	type MaxValidators = ConstU32<32>;
	type MinValidators = ConstU32<1>;
	/// Generated by the benchmark CLI (`scripts/bench-weights.sh`).
	type WeightInfo = crate::weights::pallet_validators::WeightInfo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

/// Routes transaction fees and tips to the treasury account instead of burning them, so that
/// total issuance stays at the fixed genesis supply.
pub struct FeesToTreasury;

impl OnUnbalanced<Credit<AccountId, Balances>> for FeesToTreasury {
	fn on_nonzero_unbalanced(amount: Credit<AccountId, Balances>) {
		// The treasury account may not exist yet and a first fee can be below the existential
		// deposit; the community pool always exists (it holds half the supply), so it takes the
		// fee then. Only if both refuse is the credit dropped, which would burn it.
		if let Err(amount) = Balances::resolve(&tokenomics::treasury_account(), amount) {
			let _ = Balances::resolve(&tokenomics::community_pool_account(), amount);
		}
	}
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

/// A million plancks per unit of reference time (a picosecond of compute).
pub type WeightToFee = ConstantMultiplier<Balance, ConstU128<1_000_000>>;
/// Ten micro-OPEN per byte: a plain transfer costs about 1.5 milli-OPEN (`tests::fees`).
pub type LengthToFee = ConstantMultiplier<Balance, ConstU128<{ 10 * MICRO_OPEN }>>;

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, FeesToTreasury>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = WeightToFee;
	type LengthToFee = LengthToFee;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Unvested funds may not leave the account for any reason, fees included (pallet-balances
	/// freezes a lock's amount for every withdrawal whatever its reasons, so this states what
	/// happens).
	pub UnvestedFundsAllowedWithdrawReasons: WithdrawReasons = WithdrawReasons::empty();
}

impl pallet_vesting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type BlockNumberToBalance = ConvertInto;
	type MinVestedTransfer = ConstU128<OPEN>;
	type WeightInfo = pallet_vesting::weights::SubstrateWeight<Runtime>;
	type UnvestedFundsAllowedWithdrawReasons = UnvestedFundsAllowedWithdrawReasons;
	type BlockNumberProvider = System;
	const MAX_VESTING_SCHEDULES: u32 = 28;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = super::OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Slashed contribution deposits are shared with the treasury account.
	pub TreasuryAccount: AccountId = tokenomics::treasury_account();
}

impl pallet_datanets::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	/// Creating a Datanet holds 10 OPEN until it is closed (a governance parameter).
	type DatanetDeposit = dynamic_params::datanets::DatanetDeposit;
	/// Each pending contribution holds 1 OPEN: returned on acceptance or withdrawal, slashed on
	/// rejection (a governance parameter).
	type ContributionDeposit = dynamic_params::datanets::ContributionDeposit;
	type TreasuryAccount = TreasuryAccount;
	/// Half of a slashed deposit goes to the treasury, half to the curator who rejected it (a
	/// governance parameter).
	type SlashToTreasury = dynamic_params::datanets::SlashToTreasury;
	type ReputationReward = ConstU32<10>;
	type ReputationPenalty = ConstU32<25>;
	/// Two rejections (without acceptances in between) bar a contributor from a Datanet.
	type BarThreshold = ConstI32<-50>;
	type MaxNameLen = ConstU32<64>;
	type MaxDescriptionLen = ConstU32<1024>;
	type MaxTagLen = ConstU32<32>;
	type MaxTags = ConstU32<8>;
	type MaxLicenseLen = ConstU32<64>;
	type MaxMediaTypeLen = ConstU32<64>;
	type MaxMediaTypes = ConstU32<8>;
	type MaxAllowlist = ConstU32<64>;
	type MaxCurators = ConstU32<16>;
	type MaxLocatorLen = ConstU32<256>;
	type MaxMetadataLen = ConstU32<512>;
	type MaxPendingPerContributor = ConstU32<64>;
	type MaxAcceptedPerDatanet = ConstU32<100_000>;
	/// Each acceptance earns the curator a point in the emissions' curator stream.
	type OnAccepted = CuratorEmissions;
	type WeightInfo = crate::weights::pallet_datanets::WeightInfo<Runtime>;
}

/// Which job specs the chain accepts: a snapshot verification must name an existing snapshot.
/// The training, evaluation and inference specs are checked by the pallets that create those
/// jobs.
pub struct ComputeSpecCheck;

impl pallet_compute::traits::JobSpecCheck for ComputeSpecCheck {
	fn check(
		kind: pallet_compute::JobKind,
		spec: &[u8],
	) -> Result<(), pallet_compute::traits::JobSpecError> {
		use codec::DecodeAll;
		use pallet_compute::traits::JobSpecError;
		use pallet_datanets::traits::DatanetsInspect;
		match kind {
			pallet_compute::JobKind::VerifySnapshot => {
				let spec = pallet_compute::VerifySnapshotSpec::decode_all(&mut &spec[..])
					.map_err(|_| JobSpecError::Invalid)?;
				if Datanets::snapshot_exists(spec.snapshot) {
					Ok(())
				} else {
					Err(JobSpecError::UnknownSnapshot)
				}
			}
			_ => Ok(()),
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_spec(max_len: u32) -> (pallet_compute::JobKind, alloc::vec::Vec<u8>) {
		(pallet_compute::JobKind::Train, alloc::vec![0u8; max_len as usize])
	}
}

/// Tells the pallet that created a job how it ended: train jobs to Models, infer jobs to
/// Inference (each ignores jobs it did not create).
pub struct JobHooksByKind;

impl pallet_compute::traits::JobHooks<AccountId> for JobHooksByKind {
	fn on_completed(
		job: pallet_compute::JobId,
		requester: &AccountId,
		kind: pallet_compute::JobKind,
		spec: &[u8],
		outcome: Hash,
		payload: &[u8],
		workers: &[AccountId],
	) -> Weight {
		use pallet_compute::JobKind;
		use pallet_emissions::traits::NoteActivity;
		// Emissions' worker stream: each agreeing worker earned its equal part of the fee.
		let fee = pallet_compute::Jobs::<Runtime>::get(job).map_or(0, |j| j.fee);
		let each = fee.checked_div(workers.len() as Balance).unwrap_or(0);
		for worker in workers {
			Emissions::note_worker(worker, each);
		}
		let notes = Emissions::note_weight()
			.saturating_mul(workers.len() as u64)
			.saturating_add(<Runtime as frame_system::Config>::DbWeight::get().reads(1));
		let hook = match kind {
			JobKind::Train => {
				Models::on_completed(job, requester, kind, spec, outcome, payload, workers)
			}
			JobKind::Infer => {
				Inference::on_completed(job, requester, kind, spec, outcome, payload, workers)
			}
			_ => Weight::zero(),
		};
		hook.saturating_add(notes)
	}

	fn on_failed(
		job: pallet_compute::JobId,
		requester: &AccountId,
		kind: pallet_compute::JobKind,
		spec: &[u8],
	) -> Weight {
		use pallet_compute::JobKind;
		match kind {
			JobKind::Train => Models::on_failed(job, requester, kind, spec),
			JobKind::Infer => Inference::on_failed(job, requester, kind, spec),
			_ => Weight::zero(),
		}
	}

	fn max_weight() -> Weight {
		use frame_support::traits::Get;
		use pallet_emissions::traits::NoteActivity;
		let workers: u32 = <Runtime as pallet_compute::Config>::MaxAssigned::get();
		let workers = u64::from(workers);
		Models::max_weight().max(Inference::max_weight()).saturating_add(
			Emissions::note_weight()
				.saturating_mul(workers)
				.saturating_add(<Runtime as frame_system::Config>::DbWeight::get().reads(1)),
		)
	}

	fn agree(
		kind: pallet_compute::JobKind,
		spec: &[u8],
		a: (Hash, &[u8]),
		b: (Hash, &[u8]),
	) -> bool {
		match kind {
			pallet_compute::JobKind::Train => Models::agree(kind, spec, a, b),
			pallet_compute::JobKind::Infer => Inference::agree(kind, spec, a, b),
			_ => a.0 == b.0,
		}
	}
}

impl pallet_compute::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type SpecCheck = ComputeSpecCheck;
	/// Models records the adapters its training jobs produce; Inference pays for and reports
	/// the answers of its infer jobs.
	type Hooks = JobHooksByKind;
	type Treasury = TreasuryAccount;
	/// A worker bonds at least 100 OPEN (a governance parameter).
	type MinWorkerStake = dynamic_params::compute::MinWorkerStake;
	/// A job pays at least 0.1 OPEN.
	type MinJobFee = ConstU128<{ OPEN / 10 }>;
	/// A week (6-second blocks) between unregistering and getting the stake back.
	type UnbondingPeriod = ConstU32<{ 7 * DAYS }>;
	/// A worker silent for 10 minutes is no longer assigned jobs.
	type HeartbeatTimeout = ConstU32<100>;
	type MinTimeout = ConstU32<3>;
	type MaxTimeout = ConstU32<DAYS>;
	type MaxWorkers = ConstU32<256>;
	type MaxSpecLen = ConstU32<1024>;
	type MaxResultLen = ConstU32<4096>;
	type MaxReplication = ConstU8<5>;
	type MaxAssigned = ConstU32<15>;
	type MaxEscalations = ConstU8<2>;
	type MaxJobsPerBlock = ConstU32<64>;
	type MaxJobsPerWorker = ConstU32<64>;
	/// A worker that disagrees with the majority loses 10% of its stake, one that misses a
	/// deadline 5%; half of a disagreement slash goes to the treasury, the rest to the workers
	/// whose results stood (missed deadlines go wholly to the treasury). Governance parameters.
	type SlashDisagreeFraction = dynamic_params::compute::SlashDisagree;
	type SlashMissedFraction = dynamic_params::compute::SlashMissed;
	type SlashToTreasury = dynamic_params::compute::SlashToTreasury;
	type WeightInfo = crate::weights::pallet_compute::WeightInfo<Runtime>;
}

impl pallet_models::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Datanets = Datanets;
	type Jobs = Compute;
	/// Registering a base model holds 10 OPEN.
	type BaseModelDeposit = ConstU128<{ 10 * OPEN }>;
	type MaxTrainSteps = ConstU32<10_000>;
	type MaxVersionsPerModel = ConstU32<64>;
	type MaxPendingFinetunes = ConstU32<1024>;
	/// Compute's `MaxAssigned`: every worker of a majority is listed.
	type MaxVersionWorkers = ConstU32<15>;
	type MaxNameLen = ConstU32<64>;
	type MaxArchitectureLen = ConstU32<32>;
	type MaxLicenseLen = ConstU32<64>;
	/// Generated by the benchmark CLI (`scripts/bench-weights.sh`).
	type WeightInfo = crate::weights::pallet_models::WeightInfo<Runtime>;
}

parameter_types! {
	/// Replicated on-chain inference results agree when 3 of 4 top-k contributions are shared.
	pub const InferenceAttributionAgreement: Perbill = Perbill::from_percent(75);
	pub const AttributionPotId: frame_support::PalletId = tokenomics::ATTRIBUTION_POT_ID;
}

/// The top-k of an attribution: at most this many contributions share an answer's fee. Four
/// keeps a fully attributed receipt's settlement within 1,000 per block (`tests::capacity`).
pub const MAX_ATTRIBUTION: u32 = 4;

/// Workers that may submit inference receipts: registered compute workers, unbonding ones
/// included, so that a leaving worker's last receipts still land.
pub struct ComputeWorkers;

impl frame_support::traits::Contains<AccountId> for ComputeWorkers {
	fn contains(who: &AccountId) -> bool {
		pallet_compute::Workers::<Runtime>::contains_key(who)
	}
}

impl pallet_inference::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Models;
	type Workers = ComputeWorkers;
	type Signature = Signature;
	type Signer = <Signature as sp_runtime::traits::Verify>::Signer;
	/// Attribution splits every fee.
	type Payout = Attribution;
	type MaxAttribution = ConstU32<MAX_ATTRIBUTION>;
	type AttributionAgreement = InferenceAttributionAgreement;
	/// A client's withdrawal waits an hour, so receipts for what it was served still land.
	type WithdrawDelay = ConstU32<HOURS>;
	type MaxReceipts = ConstU32<128>;
	/// Infer jobs are compute jobs of kind `Infer`.
	type Jobs = Compute;
	/// A prompt's spec must fit compute's `MaxSpecLen` (1,024 bytes).
	type MaxPromptLen = ConstU32<960>;
	/// A completion must fit compute's `MaxResultLen` (4,096 bytes).
	type MaxInferTokens = ConstU32<256>;
	type MaxPendingInfers = ConstU32<1024>;
	/// Generated by the benchmark CLI (`scripts/bench-weights.sh`).
	type WeightInfo = crate::weights::pallet_inference::WeightInfo<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = InferenceBenchmarkHelper;
}

/// Models and workers for pallet-inference's benchmarks, written the way their pallets would.
#[cfg(feature = "runtime-benchmarks")]
pub struct InferenceBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_inference::traits::BenchmarkHelper<AccountId> for InferenceBenchmarkHelper {
	fn create_model(owner: &AccountId) -> (pallet_models::ModelId, pallet_models::VersionIndex) {
		use sp_core::H256;
		let id = pallet_models::NextModelId::<Runtime>::get();
		pallet_models::NextModelId::<Runtime>::put(id.saturating_add(1));
		let now = System::block_number();
		pallet_models::ModelRecords::<Runtime>::insert(
			id,
			pallet_models::Model {
				owner: owner.clone(),
				base: 0,
				name: None,
				status: pallet_models::ModelStatus::Published,
				versions: 1,
				active: Some(1),
				created_at: now,
			},
		);
		pallet_models::ModelVersions::<Runtime>::insert(
			id,
			1,
			pallet_models::ModelVersion {
				base: 0,
				base_hash: H256::repeat_byte(0xba),
				snapshot: 0,
				snapshot_root: H256::zero(),
				adapter_hash: H256::repeat_byte(1),
				config_hash: H256::repeat_byte(2),
				attribution_index: H256::zero(),
				hyper: pallet_models::LoraHyperparams {
					rank: 8,
					alpha: 16,
					dropout_permille: 0,
					targets: 0b1111,
					learning_rate_micro: 1000,
					warmup_steps: 0,
					steps: 1,
					batch_size: 1,
					grad_accum: 1,
					seq_len: 64,
					heldout_permille: 100,
					seed: 0,
				},
				metrics: pallet_models::TrainMetrics {
					train_examples: 1,
					heldout_examples: 1,
					heldout_loss_before_micro: 2,
					heldout_loss_after_micro: 1,
					steps: 1,
				},
				workers: Default::default(),
				job: 0,
				created_at: now,
			},
		);
		(id, 1)
	}

	fn register_worker(who: &AccountId) {
		use frame_support::traits::{fungible::Mutate, Get};
		let stake: Balance = <Runtime as pallet_compute::Config>::MinWorkerStake::get();
		let _ = Balances::set_balance(who, stake.saturating_mul(2));
		let capabilities = pallet_compute::Capabilities {
			backend: pallet_compute::Backend::Cpu,
			gpu_memory_mib: 0,
			max_resident_adapters: 0,
			job_kinds: pallet_compute::JobKind::all_bits(),
		};
		let _ = Compute::register_worker(RuntimeOrigin::signed(who.clone()), stake, capabilities);
	}
}

impl pallet_attribution::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type Datanets = Datanets;
	type Models = Models;
	/// A model whose offering succeeded pays its owner share to the offering.
	type OwnerShareRoute = OfferingRevenue;
	type Emissions = Emissions;
	type PalletId = AttributionPotId;
	type Treasury = TreasuryAccount;
	type MaxAttribution = ConstU32<MAX_ATTRIBUTION>;
	/// `Root` or a referendum of the parameters track.
	type AdminOrigin = ParameterOrigin;
	/// Generated by the benchmark CLI (`scripts/bench-weights.sh`); a split's includes the
	/// emissions notes of its accounts.
	type WeightInfo = crate::weights::pallet_attribution::WeightInfo<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = AttributionBenchmarkHelper;
}

/// A model version trained on a snapshot of `n` accepted contributions, for
/// pallet-attribution's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct AttributionBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_attribution::traits::BenchmarkHelper<AccountId> for AttributionBenchmarkHelper {
	fn attributable_version(
		owner: &AccountId,
		n: u32,
	) -> (pallet_models::ModelId, pallet_models::VersionIndex, alloc::vec::Vec<u64>) {
		use pallet_datanets::traits::DatanetsInspect;
		use pallet_inference::traits::BenchmarkHelper as _;
		let snapshot = Datanets::benchmark_snapshot(owner, n).unwrap_or_default();
		let datanet = pallet_datanets::Snapshots::<Runtime>::get(snapshot)
			.map(|s| s.datanet)
			.unwrap_or_default();
		let contributions = (0..n)
			.filter_map(|position| {
				pallet_datanets::AcceptedContributions::<Runtime>::get(datanet, position)
			})
			.collect();
		let (model, version) = InferenceBenchmarkHelper::create_model(owner);
		pallet_models::ModelVersions::<Runtime>::mutate(model, version, |v| {
			if let Some(v) = v {
				v.snapshot = snapshot;
			}
		});
		(model, version, contributions)
	}
}

/// Tells the emissions pallet of each accepted contribution: a point for its curator.
pub struct CuratorEmissions;

impl pallet_datanets::traits::OnContributionAccepted<AccountId> for CuratorEmissions {
	fn on_accepted(curator: &AccountId, _contributor: &AccountId, _contribution: u64) {
		use pallet_emissions::traits::NoteActivity;
		Emissions::note_curator(curator, 1);
	}

	fn weight() -> Weight {
		use pallet_emissions::traits::NoteActivity;
		Emissions::note_weight()
	}
}

/// A model's owner share goes to its offering's revenue account once the offering succeeded.
pub struct OfferingRevenue;

impl pallet_attribution::traits::OwnerShareRoute<AccountId> for OfferingRevenue {
	fn owner_share_to(model: pallet_models::ModelId) -> Option<AccountId> {
		<Iao as pallet_iao::traits::ModelRevenue<AccountId>>::revenue_account(model)
	}
}

/// The block author of an Aura block: the validator account whose session keys hold the Aura
/// key of the slot's author.
pub type AuraAuthorAccount = pallet_session::FindAccountFromAuthorIndex<Runtime, Aura>;

parameter_types! {
	pub CommunityPoolAccount: AccountId = tokenomics::community_pool_account();
	pub EcosystemPoolAccount: AccountId = tokenomics::ecosystem_pool_account();
	pub const EmissionsPotId: frame_support::PalletId = tokenomics::EMISSIONS_POT_ID;
}

impl pallet_emissions::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type CommunityPool = CommunityPoolAccount;
	type EcosystemPool = EcosystemPoolAccount;
	type Treasury = TreasuryAccount;
	type PalletId = EmissionsPotId;
	type FindAuthor = AuraAuthorAccount;
	/// A month of blocks (dev chains set a shorter era in their genesis).
	type EraLength = ConstU32<{ crate::MONTHS }>;
	/// 48 months.
	type ScheduleLength = ConstU32<{ tokenomics::EMISSION_ERAS }>;
	/// `Root` or a referendum of the parameters track.
	type AdminOrigin = ParameterOrigin;
	/// Generated by the benchmark CLI (`scripts/bench-weights.sh`).
	type WeightInfo = crate::weights::pallet_emissions::WeightInfo<Runtime>;
}

impl pallet_assets::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type RemoveItemsLimit = ConstU32<1000>;
	type AssetId = u32;
	type AssetIdParameter = codec::Compact<u32>;
	type ReserveData = ();
	type Currency = Balances;
	/// Only pallet-iao creates assets (its share assets), never a signed account.
	type CreateOrigin =
		frame_support::traits::AsEnsureOriginWithArg<frame_system::EnsureNever<AccountId>>;
	type ForceOrigin = frame_system::EnsureRoot<AccountId>;
	type AssetDeposit = ConstU128<{ OPEN }>;
	type AssetAccountDeposit = ConstU128<{ MILLI_OPEN }>;
	type MetadataDepositBase = ConstU128<{ OPEN }>;
	type MetadataDepositPerByte = ConstU128<{ MILLI_OPEN }>;
	type ApprovalDeposit = ConstU128<{ MILLI_OPEN }>;
	type StringLimit = ConstU32<64>;
	type Freezer = ();
	type Holder = ();
	type Extra = ();
	type CallbackHandle = ();
	type AssetIdAllocator = ();
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

parameter_types! {
	pub const IaoPalletId: frame_support::PalletId = frame_support::PalletId(*b"ol/iao__");
	/// A proposal passes only if at least a fifth of the sold shares voted.
	pub const IaoQuorum: Perbill = Perbill::from_percent(20);
}

/// IAO share assets are numbered from here (`SHARE_ASSET_BASE + offering`).
pub const SHARE_ASSET_BASE: u32 = 1_000_000;

/// The asset id of an offering's shares.
pub struct ShareAssetId;

impl sp_runtime::traits::Convert<pallet_iao::OfferingId, u32> for ShareAssetId {
	fn convert(offering: pallet_iao::OfferingId) -> u32 {
		SHARE_ASSET_BASE.saturating_add(offering)
	}
}

/// pallet-iao's view of the model registry: owners, versions, and activation of a version a
/// shareholder vote passed (on the owner's behalf).
pub struct IaoModels;

impl pallet_iao::traits::ModelControl<AccountId> for IaoModels {
	fn owner(model: pallet_models::ModelId) -> Option<AccountId> {
		use pallet_models::traits::Inspect;
		Models::model_owner(model)
	}

	fn version_exists(model: pallet_models::ModelId, version: pallet_models::VersionIndex) -> bool {
		use pallet_models::traits::Inspect;
		Models::model_version(model, version).is_some()
	}

	fn activate_version(
		model: pallet_models::ModelId,
		version: pallet_models::VersionIndex,
	) -> frame_support::dispatch::DispatchResult {
		use pallet_models::traits::Inspect;
		let owner =
			Models::model_owner(model).ok_or(pallet_models::Error::<Runtime>::UnknownModel)?;
		Models::set_active_version(RuntimeOrigin::signed(owner), model, version)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model(owner: &AccountId) -> (pallet_models::ModelId, pallet_models::VersionIndex) {
		use pallet_inference::traits::BenchmarkHelper as _;
		let (model, version) = InferenceBenchmarkHelper::create_model(owner);
		let second = version.saturating_add(1);
		if let Some(v) = pallet_models::ModelVersions::<Runtime>::get(model, version) {
			pallet_models::ModelVersions::<Runtime>::insert(model, second, v);
		}
		pallet_models::ModelRecords::<Runtime>::mutate(model, |m| {
			if let Some(m) = m {
				m.versions = second;
			}
		});
		(model, second)
	}
}

impl pallet_iao::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type Assets = Assets;
	type ShareAssetId = ShareAssetId;
	type Models = IaoModels;
	type PalletId = IaoPalletId;
	type MaxTranches = ConstU32<12>;
	/// 30 days.
	type MaxWindow = ConstU32<{ 30 * DAYS }>;
	type MaxOpenProposals = ConstU32<8>;
	/// 7 days.
	type VotingPeriod = ConstU32<{ 7 * DAYS }>;
	/// 2 days.
	type EnactmentDelay = ConstU32<{ 2 * DAYS }>;
	type Quorum = IaoQuorum;
	/// Generated by the benchmark CLI (`scripts/bench-weights.sh`).
	type WeightInfo = crate::weights::pallet_iao::WeightInfo<Runtime>;
}
