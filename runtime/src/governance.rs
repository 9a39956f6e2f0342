//! On-chain governance with OPEN: referenda (pallet-referenda) decided by conviction voting
//! (pallet-conviction-voting, with delegation), proposals stored as preimages (pallet-preimage)
//! and enacted by the scheduler (pallet-scheduler), after a delay.
//!
//! Two tracks:
//!
//! | id | track | origin | what it may do |
//! |---|---|---|---|
//! | 0 | `root` | `Root` | anything, above all runtime upgrades (`System::authorize_upgrade`, `set_code`) |
//! | 1 | `parameters` | `ParameterAdmin` | the fee split, the emission streams, the dynamic parameters |
//!
//! The dynamic parameters (pallet-parameters, [`dynamic_params`]) are the ones that were
//! constants before governance: Datanet and contribution deposits, the share of a slashed
//! deposit that goes to the treasury, the worker stake and the worker slash fractions.
//!
//! The tracks follow the chain's [`pallet_governance::GovernancePace`]: days on a public chain,
//! blocks on dev and local chains (set in their genesis) so that a referendum passes in about a
//! minute there.

use frame_support::{
	dynamic_params::{dynamic_pallet_params, dynamic_params},
	parameter_types,
	traits::{
		fungible::HoldConsideration, tokens::currency::ActiveIssuanceOf, ConstU32, Currency,
		EitherOf, EqualPrivilegeOnly, LinearStoragePrice, OnUnbalanced,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureSigned};
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::{str_array as s, Perbill};

use super::{
	configs::{RuntimeBlockWeights, TreasuryAccount},
	tokenomics::{MICRO_OPEN, OPEN},
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, Scheduler, System, DAYS, HOURS,
};
use alloc::borrow::Cow;

/// `Root` or a passed referendum of the parameters track.
pub type ParameterOrigin = EitherOf<EnsureRoot<AccountId>, pallet_governance::EnsureParameterAdmin>;

impl pallet_governance::Config for Runtime {}

parameter_types! {
	/// Scheduled calls may use 80% of a block.
	pub MaximumSchedulerWeight: Weight = {
		let max = RuntimeBlockWeights::get().max_block;
		let share = Perbill::from_percent(80);
		Weight::from_parts(share.mul_floor(max.ref_time()), share.mul_floor(max.proof_size()))
	};
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
	/// Storing a preimage holds 1 OPEN plus 1 micro-OPEN per byte (a 2 MB runtime: 3 OPEN).
	pub const PreimageBaseDeposit: Balance = OPEN;
	pub const PreimageByteDeposit: Balance = MICRO_OPEN;
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	/// Only referenda (which dispatch as `Root`) schedule; no signed account can.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	/// Support is measured against all OPEN in circulation.
	type MaxTurnout = ActiveIssuanceOf<Balances, AccountId>;
	/// Votes (and delegations) an account may hold at once, over all tracks.
	type MaxVotes = ConstU32<256>;
	/// A conviction of 1x locks the vote for a week after the referendum ends (6x: 32 weeks).
	type VoteLockingPeriod = ConstU32<{ 7 * DAYS }>;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

/// Slashed referendum deposits go to the treasury: OPEN's supply is fixed, nothing is burnt.
pub struct DepositSlashToTreasury;

impl OnUnbalanced<pallet_balances::NegativeImbalance<Runtime>> for DepositSlashToTreasury {
	fn on_nonzero_unbalanced(amount: pallet_balances::NegativeImbalance<Runtime>) {
		Balances::resolve_creating(&TreasuryAccount::get(), amount);
	}
}

parameter_types! {
	/// Submitting a referendum reserves 100 OPEN (returned once it is decided).
	pub const SubmissionDeposit: Balance = 100 * OPEN;
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	/// Any OPEN holder may submit a referendum.
	type SubmitOrigin = frame_support::traits::AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Slash = DepositSlashToTreasury;
	type Votes = pallet_conviction_voting::VotesOf<Runtime>;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = ConstU32<1>;
	type Tracks = Tracks;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

/// Track ids.
pub mod track {
	/// `Root`: runtime upgrades and anything else.
	pub const ROOT: u16 = 0;
	/// `ParameterAdmin`: fee splits, emission streams, deposits, slash fractions.
	pub const PARAMETERS: u16 = 1;
}

/// A threshold that falls linearly from `ceil` at the start of the decision period to `floor`
/// at its end.
const fn falling(ceil: Perbill, floor: Perbill) -> Curve {
	Curve::LinearDecreasing { length: Perbill::one(), floor, ceil }
}

/// Approval (ayes over ayes and nays, with conviction) must start at 100% and may fall to 50%
/// by the end of the decision period.
const APPROVAL: Curve = falling(Perbill::from_percent(100), Perbill::from_percent(50));
/// Support of the root track (aye votes without conviction over circulating OPEN): 20% at
/// first, 1% by the end.
const ROOT_SUPPORT: Curve = falling(Perbill::from_percent(20), Perbill::from_percent(1));
/// Support of the parameters track: 10% at first, 0.5% by the end.
const PARAMETERS_SUPPORT: Curve = falling(Perbill::from_percent(10), Perbill::from_perthousand(5));

/// What a chain's pace changes in a track: its decision deposit and periods.
struct Pacing {
	decision_deposit: Balance,
	prepare: BlockNumber,
	decide: BlockNumber,
	confirm: BlockNumber,
	enact: BlockNumber,
}

/// A track with its pace-independent parts and `pacing`.
const fn track(
	id: u16,
	name: &str,
	max_deciding: u32,
	min_support: Curve,
	pacing: Pacing,
) -> Track<u16, Balance, BlockNumber> {
	Track {
		id,
		info: TrackInfo {
			name: s(name),
			max_deciding,
			decision_deposit: pacing.decision_deposit,
			prepare_period: pacing.prepare,
			decision_period: pacing.decide,
			confirm_period: pacing.confirm,
			min_enactment_period: pacing.enact,
			min_approval: APPROVAL,
			min_support,
		},
	}
}

/// The root track: one referendum decided at a time.
const fn root_track(pacing: Pacing) -> Track<u16, Balance, BlockNumber> {
	track(track::ROOT, "root", 1, ROOT_SUPPORT, pacing)
}

/// The parameters track: up to ten referenda decided at once.
const fn parameters_track(pacing: Pacing) -> Track<u16, Balance, BlockNumber> {
	track(track::PARAMETERS, "parameters", 10, PARAMETERS_SUPPORT, pacing)
}

/// The tracks of a public chain.
const PUBLIC_TRACKS: [Track<u16, Balance, BlockNumber>; 2] = [
	root_track(Pacing {
		decision_deposit: 100_000 * OPEN,
		prepare: 2 * HOURS,
		decide: 14 * DAYS,
		confirm: DAYS,
		enact: DAYS,
	}),
	parameters_track(Pacing {
		decision_deposit: 10_000 * OPEN,
		prepare: HOURS,
		decide: 7 * DAYS,
		confirm: 6 * HOURS,
		enact: 6 * HOURS,
	}),
];

/// The tracks of dev and local chains: the same thresholds, periods of a few blocks, small
/// decision deposits.
const DEV_TRACKS: [Track<u16, Balance, BlockNumber>; 2] = [
	root_track(Pacing {
		decision_deposit: 1_000 * OPEN,
		prepare: 2,
		decide: 20,
		confirm: 2,
		enact: 2,
	}),
	parameters_track(Pacing {
		decision_deposit: 100 * OPEN,
		prepare: 1,
		decide: 20,
		confirm: 2,
		enact: 1,
	}),
];

/// The referendum tracks, by the chain's governance pace.
pub struct Tracks;

impl pallet_referenda::TracksInfo<Balance, BlockNumber> for Tracks {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as frame_support::traits::OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		let tracks: &'static [Track<u16, Balance, BlockNumber>] =
			match pallet_governance::Pallet::<Runtime>::pace() {
				pallet_governance::GovernancePace::Public => &PUBLIC_TRACKS,
				pallet_governance::GovernancePace::Dev => &DEV_TRACKS,
			};
		tracks.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(track::ROOT),
			OriginCaller::Governance(pallet_governance::Origin::ParameterAdmin) => {
				Ok(track::PARAMETERS)
			}
			_ => Err(()),
		}
	}
}

/// Parameters that a referendum of the parameters track (or `Root`) may change without a
/// runtime upgrade. Each reads its stored value, or the default below while none is set.
#[dynamic_params(RuntimeParameters, pallet_parameters::Parameters::<Runtime>)]
pub mod dynamic_params {
	use super::*;

	/// Datanets.
	#[dynamic_pallet_params]
	#[codec(index = 0)]
	pub mod datanets {
		/// Held from the owner while a Datanet is open.
		#[codec(index = 0)]
		pub static DatanetDeposit: Balance = 10 * OPEN;
		/// Held per pending contribution (each contribution records what was held).
		#[codec(index = 1)]
		pub static ContributionDeposit: Balance = OPEN;
		/// Share of a rejected contribution's deposit that goes to the treasury (the rest to
		/// the curator).
		#[codec(index = 2)]
		pub static SlashToTreasury: Perbill = Perbill::from_percent(50);
	}

	/// Compute workers.
	#[dynamic_pallet_params]
	#[codec(index = 1)]
	pub mod compute {
		/// The least stake a worker registers with and keeps to stay active.
		#[codec(index = 0)]
		pub static MinWorkerStake: Balance = 100 * OPEN;
		/// Share of its stake a worker that disagreed with the majority loses.
		#[codec(index = 1)]
		pub static SlashDisagree: Perbill = Perbill::from_percent(10);
		/// Share of its stake a worker that missed a deadline loses.
		#[codec(index = 2)]
		pub static SlashMissed: Perbill = Perbill::from_percent(5);
		/// Share of a disagreement slash that goes to the treasury (the rest to the majority).
		#[codec(index = 3)]
		pub static SlashToTreasury: Perbill = Perbill::from_percent(50);
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl Default for RuntimeParameters {
	fn default() -> Self {
		RuntimeParameters::Compute(dynamic_params::compute::Parameters::MinWorkerStake(
			dynamic_params::compute::MinWorkerStake,
			Some(100 * OPEN),
		))
	}
}

impl pallet_parameters::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeParameters = RuntimeParameters;
	type AdminOrigin = frame_support::traits::AsEnsureOriginWithArg<ParameterOrigin>;
	/// The pallet's reference weights (its `()` implementation: one read and one write).
	type WeightInfo = ();
}
