//! OPEN token economics: units, the fixed supply, its five genesis buckets, the keyless pool
//! accounts, and the vesting of team and investor allocations.
//!
//! Every figure here comes from the design: 1,000,000,000 OPEN, 18 decimals; community 51.71%,
//! ecosystem 10%, investors 18.29%, team 15%, liquidity 5%; team and investors locked for 12
//! months, then released linearly over 36 months. Presets may change who holds a bucket, never
//! its share.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::PalletId;
use scale_info::TypeInfo;
use sp_runtime::traits::AccountIdConversion;

use crate::{AccountId, Balance, BlockNumber, MONTHS};

/// One OPEN in plancks (18 decimals).
pub const OPEN: Balance = 1_000_000_000_000_000_000;
/// A thousandth of an OPEN.
pub const MILLI_OPEN: Balance = OPEN / 1_000;
/// A millionth of an OPEN.
pub const MICRO_OPEN: Balance = OPEN / 1_000_000;

/// The token's ticker, as wallets show it.
pub const TOKEN_SYMBOL: &str = "OPEN";
/// Decimal places of the token.
pub const TOKEN_DECIMALS: u8 = 18;
/// The SS58 address prefix of OpenLedger accounts.
pub const SS58_PREFIX: u16 = 1612;

/// The fixed supply, all of it minted at genesis.
pub const TOTAL_SUPPLY: Balance = 1_000_000_000 * OPEN;
/// The smallest balance an account may hold.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_OPEN;

/// Team and investor funds stay locked for this many blocks after genesis.
pub const VESTING_CLIFF: BlockNumber = 12 * MONTHS;
/// After the cliff, locked funds are released linearly over this many blocks.
pub const VESTING_DURATION: BlockNumber = 36 * MONTHS;

/// Keyless account of the community pool, paid out by the emissions schedule.
pub const COMMUNITY_POOL_ID: PalletId = PalletId(*b"ol/cmnty");
/// Keyless account of the ecosystem pool, paid out by the emissions schedule.
pub const ECOSYSTEM_POOL_ID: PalletId = PalletId(*b"ol/ecsys");
/// Keyless treasury account; transaction fees go here.
pub const TREASURY_ID: PalletId = PalletId(*b"ol/trsry");
/// Keyless pot of pallet-attribution: inference fees wait there, split, until claimed.
pub const ATTRIBUTION_POT_ID: PalletId = PalletId(*b"ol/attrb");
/// Keyless pot of pallet-emissions: released emissions wait there until claimed. It takes its
/// existential deposit from the ecosystem pool when the schedule starts (at genesis).
pub const EMISSIONS_POT_ID: PalletId = PalletId(*b"ol/emisn");
/// The emissions schedule: the community and ecosystem pools are released over this many
/// eras (a month each on a public chain).
pub const EMISSION_ERAS: u32 = 48;

/// The community pool's account.
pub fn community_pool_account() -> AccountId {
	COMMUNITY_POOL_ID.into_account_truncating()
}

/// The ecosystem pool's account.
pub fn ecosystem_pool_account() -> AccountId {
	ECOSYSTEM_POOL_ID.into_account_truncating()
}

/// The treasury's account.
pub fn treasury_account() -> AccountId {
	TREASURY_ID.into_account_truncating()
}

/// The attribution pot's account. It holds the existential deposit from genesis (taken from
/// the ecosystem pool), so that claims never reap it.
pub fn attribution_pot_account() -> AccountId {
	ATTRIBUTION_POT_ID.into_account_truncating()
}

/// The five genesis allocations of OPEN.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bucket {
	/// Community rewards, released by emissions over 48 months.
	Community,
	/// Ecosystem grants, released by emissions over 48 months.
	Ecosystem,
	/// Investors: vested.
	Investors,
	/// Team: vested.
	Team,
	/// Market liquidity: free at genesis.
	Liquidity,
}

impl Bucket {
	/// Every bucket, in the order of the design document.
	pub const ALL: [Bucket; 5] =
		[Bucket::Community, Bucket::Ecosystem, Bucket::Investors, Bucket::Team, Bucket::Liquidity];

	/// The bucket's share of the supply in basis points (1/100 of a percent).
	pub const fn basis_points(self) -> u32 {
		match self {
			Bucket::Community => 5171,
			Bucket::Ecosystem => 1000,
			Bucket::Investors => 1829,
			Bucket::Team => 1500,
			Bucket::Liquidity => 500,
		}
	}

	/// The bucket's amount in plancks. Exact: the supply is a multiple of 10,000.
	pub const fn amount(self) -> Balance {
		(TOTAL_SUPPLY / 10_000).saturating_mul(self.basis_points() as Balance)
	}

	/// Whether the bucket's holders are subject to the cliff and linear vesting.
	pub const fn vests(self) -> bool {
		matches!(self, Bucket::Investors | Bucket::Team)
	}
}

/// The accounts that hold the buckets which people hold (the pools are keyless).
#[derive(Clone, Debug)]
pub struct Holders {
	/// Team members; their allocation vests.
	pub team: Vec<AccountId>,
	/// Investors; their allocation vests.
	pub investors: Vec<AccountId>,
	/// Liquidity providers; free at genesis.
	pub liquidity: Vec<AccountId>,
}

/// Why a set of holders cannot receive the genesis allocation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AllocationError {
	/// A bucket held by people has nobody to hold it.
	NoHolders(Bucket),
	/// An account appears twice: its vesting lock would cover funds meant to be free, and the
	/// balances genesis refuses duplicates.
	DuplicateHolder,
	/// Arithmetic overflowed (cannot happen with the fixed supply; checked all the same).
	Overflow,
}

/// Genesis balances and vesting schedules that realise the allocation.
#[derive(Clone, Debug, PartialEq)]
pub struct GenesisAllocation {
	/// `(account, free balance)` for pallet-balances.
	pub balances: Vec<(AccountId, Balance)>,
	/// `(account, first unlocking block, blocks until fully vested, liquid at genesis)` for
	/// pallet-vesting.
	pub vesting: Vec<(AccountId, BlockNumber, BlockNumber, Balance)>,
}

/// Splits `amount` into `parts` equal shares; the first share also takes the remainder.
fn split(amount: Balance, parts: usize) -> Option<Vec<Balance>> {
	let n = Balance::try_from(parts).ok()?;
	let share = amount.checked_div(n)?;
	let remainder = amount.checked_rem(n)?;
	let mut shares = alloc::vec![share; parts];
	let first = shares.first_mut()?;
	*first = first.checked_add(remainder)?;
	Some(shares)
}

/// Computes the genesis balances and vesting schedules for the given holders.
///
/// The pools receive their buckets whole; each person-held bucket is split equally among its
/// holders. The sum is exactly [`TOTAL_SUPPLY`].
pub fn genesis_allocation(holders: &Holders) -> Result<GenesisAllocation, AllocationError> {
	let mut balances = Vec::new();
	let mut vesting = Vec::new();
	balances.push((community_pool_account(), Bucket::Community.amount()));
	// The attribution pot starts with its existential deposit, out of the ecosystem pool.
	balances.push((
		ecosystem_pool_account(),
		Bucket::Ecosystem
			.amount()
			.checked_sub(EXISTENTIAL_DEPOSIT)
			.ok_or(AllocationError::Overflow)?,
	));
	balances.push((attribution_pot_account(), EXISTENTIAL_DEPOSIT));
	for (bucket, accounts) in [
		(Bucket::Investors, &holders.investors),
		(Bucket::Team, &holders.team),
		(Bucket::Liquidity, &holders.liquidity),
	] {
		let shares = split(bucket.amount(), accounts.len()).ok_or(if accounts.is_empty() {
			AllocationError::NoHolders(bucket)
		} else {
			AllocationError::Overflow
		})?;
		for (account, share) in accounts.iter().zip(shares) {
			if balances.iter().any(|(known, _)| known == account) {
				return Err(AllocationError::DuplicateHolder);
			}
			balances.push((account.clone(), share));
			if bucket.vests() {
				// Nothing is liquid: the whole share is locked until the cliff.
				vesting.push((account.clone(), VESTING_CLIFF, VESTING_DURATION, 0));
			}
		}
	}
	Ok(GenesisAllocation { balances, vesting })
}

/// A pool account and what it holds, as the `openledger_tokenomics` RPC reports it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct PoolBalance {
	/// Short name: `community`, `ecosystem` or `treasury`.
	pub name: Vec<u8>,
	/// The keyless account.
	pub account: AccountId,
	/// Its free balance.
	pub free: Balance,
}

/// The token's state as the runtime sees it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct TokenomicsInfo {
	/// The fixed supply minted at genesis.
	pub supply: Balance,
	/// Total issuance now; equal to `supply` unless something burned or minted.
	pub total_issuance: Balance,
	/// The keyless pools and the treasury.
	pub pools: Vec<PoolBalance>,
}

sp_api::decl_runtime_apis! {
	/// OPEN token economics, for the node's `openledger_tokenomics` RPC method.
	pub trait TokenomicsApi {
		/// Supply, issuance and the balances of the keyless pools.
		fn tokenomics() -> TokenomicsInfo;
	}
}
