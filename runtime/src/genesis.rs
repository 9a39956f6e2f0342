//! Genesis presets: `development` (Alice alone validates and holds sudo) and `local_testnet`
//! (Alice, Bob and Charlie validate; no sudo: OPEN holders govern through referenda). Both mint the full OPEN supply with the design's proportions and the real
//! vesting timeline; dev accounts from the well-known keyring hold the person-held buckets.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	tokenomics::{genesis_allocation, AllocationError, Holders},
	AccountId, BalancesConfig, BlockNumber, EmissionsConfig, GovernanceConfig, IaoConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, ValidatorsConfig, VestingConfig,
};

/// Emission eras of dev and local chains: a minute (10 blocks) instead of a month, so that the
/// whole 48-era schedule plays out in 48 minutes and a demo sees eras paid.
pub const DEV_EMISSION_ERA: BlockNumber = 10;

/// IAO proposals on dev and local chains: open to votes for 10 blocks, executable 2 blocks
/// after passing (a week and two days on a public chain).
pub const DEV_VOTING_PERIOD: BlockNumber = 10;
/// See [`DEV_VOTING_PERIOD`].
pub const DEV_ENACTMENT_DELAY: BlockNumber = 2;

/// Builds the genesis configuration patch for a chain.
/// `sudo`: the sudo key, if the chain has one (only `development` does; every other chain is
/// governed by referenda).
/// `dev_times`: emission eras, IAO votes and referenda in minutes ([`DEV_EMISSION_ERA`],
/// [`DEV_VOTING_PERIOD`], [`DEV_ENACTMENT_DELAY`], the dev referendum tracks) instead of the
/// runtime's months and days.
pub fn openledger_genesis(
	authorities: Vec<(AccountId, AuraId, GrandpaId)>,
	sudo: Option<AccountId>,
	holders: &Holders,
	dev_times: bool,
) -> Result<Value, AllocationError> {
	let allocation = genesis_allocation(holders)?;
	Ok(build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: allocation.balances },
		// The first validators and their session keys; the session pallet hands the keys to
		// Aura and GRANDPA (whose own genesis lists stay empty).
		session: SessionConfig {
			keys: authorities
				.iter()
				.map(|(account, aura, grandpa)| {
					(
						account.clone(),
						account.clone(),
						SessionKeys { aura: aura.clone(), grandpa: grandpa.clone() },
					)
				})
				.collect::<Vec<_>>(),
		},
		validators: ValidatorsConfig {
			validators: authorities
				.iter()
				.map(|(account, _, _)| account.clone())
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: sudo },
		vesting: VestingConfig { vesting: allocation.vesting },
		emissions: EmissionsConfig { era_length: dev_times.then_some(DEV_EMISSION_ERA) },
		iao: IaoConfig {
			voting_period: dev_times.then_some(DEV_VOTING_PERIOD),
			enactment_delay: dev_times.then_some(DEV_ENACTMENT_DELAY),
		},
		governance: GovernanceConfig {
			pace: if dev_times {
				pallet_governance::GovernancePace::Dev
			} else {
				pallet_governance::GovernancePace::Public
			},
		},
	}))
}

/// The holders that dev and local chains use: well-known dev keys, so that tests and
/// Polkadot.js Apps can sign for every kind of holder.
///
/// - liquidity (free): Alice, Bob, Charlie, Dave
/// - team (vested): Eve, Ferdie
/// - investors (vested): Alice//stash, Bob//stash, Charlie//stash
pub fn dev_holders() -> Holders {
	Holders {
		liquidity: [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.iter()
		.map(|k| k.to_account_id())
		.collect(),
		team: [Sr25519Keyring::Eve, Sr25519Keyring::Ferdie]
			.iter()
			.map(|k| k.to_account_id())
			.collect(),
		investors: [
			Sr25519Keyring::AliceStash,
			Sr25519Keyring::BobStash,
			Sr25519Keyring::CharlieStash,
		]
		.iter()
		.map(|k| k.to_account_id())
		.collect(),
	}
}

/// Account, Aura (sr25519) and GRANDPA (ed25519) keys of a well-known dev validator.
fn authority_keys(aura: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AccountId, AuraId, GrandpaId) {
	(aura.to_account_id(), aura.public().into(), grandpa.public().into())
}

/// The `development` preset: Alice validates alone and holds sudo.
pub fn development_config() -> Result<Value, AllocationError> {
	openledger_genesis(
		vec![authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Some(Sr25519Keyring::Alice.to_account_id()),
		&dev_holders(),
		true,
	)
}

/// The `local_testnet` preset: Alice, Bob and Charlie validate. No sudo: changes go through
/// referenda (with the dev tracks' short periods).
pub fn local_testnet_config() -> Result<Value, AllocationError> {
	openledger_genesis(
		vec![
			authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority_keys(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority_keys(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		None,
		&dev_holders(),
		true,
	)
}

/// The JSON of the named preset, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_str() {
		DEV_RUNTIME_PRESET => development_config(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_config(),
		_ => return None,
	};
	patch.ok().and_then(|value| serde_json::to_vec(&value).ok())
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
