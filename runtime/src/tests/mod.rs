//! Runtime tests: the OPEN genesis allocation, vesting, fees, presets, capacity, the emissions
//! and IAO wiring.
//!
//! Tests build the real genesis presets into storage and drive signed extrinsics through the
//! executive, so they exercise the same code paths as the node.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

mod capacity;
mod emissions;
mod fees;
mod genesis;
mod governance;
mod vesting;

use codec::Encode;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{generic::Era, traits::Header as _, BuildStorage};

use crate::{
	AccountId, Balance, BalancesCall, Executive, Header, Nonce, Runtime, RuntimeCall,
	RuntimeGenesisConfig, SignedPayload, System, TxExtension, UncheckedExtrinsic,
};

/// Merges a JSON patch into a base value, as chain-spec tooling does with preset patches.
fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
	match (base, patch) {
		(serde_json::Value::Object(base), serde_json::Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(serde_json::Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

/// The full genesis config of a preset: the default config with the preset's patch applied.
pub(crate) fn preset_config(patch: serde_json::Value) -> RuntimeGenesisConfig {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, patch);
	serde_json::from_value(config).unwrap()
}

/// Externalities holding the `development` preset's genesis state at block 0.
pub(crate) fn dev_ext() -> sp_io::TestExternalities {
	let config = preset_config(crate::genesis::development_config().unwrap());
	let storage = config.build_storage().unwrap();
	sp_io::TestExternalities::new(storage)
}

/// Starts block `number` the way block import does: through the executive. Blocks before it
/// are skipped, as if empty.
pub(crate) fn start_block(number: u32) {
	System::set_block_number(number.saturating_sub(1));
	let header = Header::new(
		number,
		Default::default(),
		Default::default(),
		System::parent_hash(),
		Default::default(),
	);
	Executive::initialize_block(&header);
}

/// A signed, immortal extrinsic from `signer` with the runtime's full transaction extensions.
pub(crate) fn signed(signer: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
	let who = signer.to_account_id();
	let nonce: Nonce = System::account_nonce(&who);
	let tx_ext: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
	);
	let payload = SignedPayload::new(call.clone(), tx_ext.clone()).unwrap();
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(call, who.into(), signature.into(), tx_ext)
}

/// A `transfer_allow_death` call.
pub(crate) fn transfer(to: &AccountId, value: Balance) -> RuntimeCall {
	RuntimeCall::Balances(BalancesCall::transfer_allow_death { dest: to.clone().into(), value })
}

/// Free balance of an account.
pub(crate) fn free(who: &AccountId) -> Balance {
	pallet_balances::Pallet::<Runtime>::free_balance(who)
}

/// Balance that is frozen (locked) on an account.
pub(crate) fn frozen(who: &AccountId) -> Balance {
	System::account(who).data.frozen
}
