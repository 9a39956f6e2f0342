//! The genesis allocation of OPEN and the presets.

use super::*;
use crate::{
	genesis::{dev_holders, development_config, get_preset, local_testnet_config, preset_names},
	tokenomics::*,
	Balances, Grandpa,
};

fn sum(accounts: &[AccountId]) -> Balance {
	accounts.iter().map(free).sum()
}

#[test]
fn bucket_shares_add_up_to_the_whole_supply() {
	let basis_points: u32 = Bucket::ALL.iter().map(|b| b.basis_points()).sum();
	assert_eq!(basis_points, 10_000);
	let amounts: Balance = Bucket::ALL.iter().map(|b| b.amount()).sum();
	assert_eq!(amounts, TOTAL_SUPPLY);
	assert_eq!(TOTAL_SUPPLY, 1_000_000_000 * 10u128.pow(18));
}

#[test]
fn genesis_mints_exactly_one_billion_open() {
	dev_ext().execute_with(|| {
		assert_eq!(Balances::total_issuance(), 1_000_000_000 * OPEN);
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}

#[test]
fn each_bucket_holds_its_design_share() {
	dev_ext().execute_with(|| {
		let holders = dev_holders();
		assert_eq!(free(&community_pool_account()), 517_100_000 * OPEN);
		// Less the attribution and emissions pots' existential deposits.
		assert_eq!(free(&ecosystem_pool_account()), 100_000_000 * OPEN - 2 * EXISTENTIAL_DEPOSIT);
		assert_eq!(free(&attribution_pot_account()), EXISTENTIAL_DEPOSIT);
		assert_eq!(free(&crate::Emissions::pot()), EXISTENTIAL_DEPOSIT);
		assert_eq!(sum(&holders.investors), 182_900_000 * OPEN);
		assert_eq!(sum(&holders.team), 150_000_000 * OPEN);
		assert_eq!(sum(&holders.liquidity), 50_000_000 * OPEN);
		// Nobody else holds anything at genesis.
		let all = frame_system::Account::<Runtime>::iter().count();
		assert_eq!(all, 4 + holders.investors.len() + holders.team.len() + holders.liquidity.len());
	});
}

#[test]
fn pools_are_keyless_and_distinct() {
	let pools = [
		community_pool_account(),
		ecosystem_pool_account(),
		treasury_account(),
		attribution_pot_account(),
		crate::Emissions::pot(),
		crate::Iao::admin_account(),
	];
	for (i, a) in pools.iter().enumerate() {
		for b in pools.iter().skip(i + 1) {
			assert_ne!(a, b);
		}
		// A PalletId account starts with "modl": no key derivation produces it.
		assert_eq!(&AsRef::<[u8; 32]>::as_ref(a)[..4], b"modl");
	}
}

#[test]
fn liquidity_is_free_and_vested_buckets_are_locked_at_genesis() {
	dev_ext().execute_with(|| {
		let holders = dev_holders();
		for who in &holders.liquidity {
			assert_eq!(frozen(who), 0);
		}
		for who in holders.team.iter().chain(&holders.investors) {
			assert!(free(who) > 0);
			assert_eq!(frozen(who), free(who), "a vested holder has nothing spendable at genesis");
		}
		assert_eq!(frozen(&community_pool_account()), 0);
	});
}

#[test]
fn uneven_split_gives_the_remainder_to_the_first_holder() {
	// 182,900,000 OPEN over three investors does not divide evenly.
	dev_ext().execute_with(|| {
		let investors = dev_holders().investors;
		let share = Bucket::Investors.amount() / 3;
		assert_eq!(free(&investors[1]), share);
		assert_eq!(free(&investors[2]), share);
		assert_eq!(free(&investors[0]), share + Bucket::Investors.amount() % 3);
	});
}

#[test]
fn allocation_refuses_empty_buckets_and_duplicate_holders() {
	let mut holders = dev_holders();
	holders.team.clear();
	assert_eq!(genesis_allocation(&holders), Err(AllocationError::NoHolders(Bucket::Team)));

	let mut holders = dev_holders();
	let alice = holders.liquidity[0].clone();
	holders.team.push(alice);
	assert_eq!(genesis_allocation(&holders), Err(AllocationError::DuplicateHolder));

	let mut holders = dev_holders();
	holders.investors.push(community_pool_account());
	assert_eq!(genesis_allocation(&holders), Err(AllocationError::DuplicateHolder));
}

#[test]
fn presets_set_the_validators() {
	let dev = preset_config(development_config().unwrap());
	assert_eq!(dev.session.keys.len(), 1);
	assert_eq!(dev.validators.validators, vec![Sr25519Keyring::Alice.to_account_id()]);
	assert_eq!(dev.sudo.key, Some(Sr25519Keyring::Alice.to_account_id()));

	let local = preset_config(local_testnet_config().unwrap());
	// Validators come with their session keys; Aura and GRANDPA get theirs from the session.
	assert_eq!(local.session.keys.len(), 3);
	assert_eq!(local.validators.validators.len(), 3);
	assert!(local.aura.authorities.is_empty() && local.grandpa.authorities.is_empty());
	// Only the development chain has a sudo key; the local one is governed by referenda.
	assert_eq!(local.sudo.key, None);
	let ext_storage = local.build_storage().unwrap();
	sp_io::TestExternalities::new(ext_storage).execute_with(|| {
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		assert_eq!(
			pallet_governance::Pace::<Runtime>::get(),
			pallet_governance::GovernancePace::Dev
		);
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 3);
		assert_eq!(Grandpa::grandpa_authorities().len(), 3);
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}

#[test]
fn presets_are_listed_and_unknown_names_are_refused() {
	assert_eq!(preset_names(), vec!["development".to_string(), "local_testnet".to_string()]);
	for id in preset_names() {
		assert!(get_preset(&id).is_some());
	}
	assert!(get_preset(&"mainnet".into()).is_none());
}

#[test]
fn chain_identity_matches_the_token() {
	assert_eq!(<crate::configs::SS58Prefix as frame_support::traits::Get<u16>>::get(), 1612);
	assert_eq!(TOKEN_SYMBOL, "OPEN");
	assert_eq!(TOKEN_DECIMALS, 18);
	assert_eq!(OPEN, 10u128.pow(TOKEN_DECIMALS as u32));
}
