//! The built-in chains: `dev` (Alice alone) and `local` (Alice, Bob, Charlie). Their genesis
//! comes from the runtime's presets, so the runtime alone decides balances and vesting.

use openledger_runtime::{
	tokenomics::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL},
	WASM_BINARY,
};
use sc_service::{ChainType, Properties};
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// The chain specification type of this node.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Token properties that wallets (Polkadot.js) read from `system_properties`.
pub fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime's wasm binary is missing: this node was built with SKIP_WASM_BUILD".to_string()
	})
}

/// A single-validator development chain (Alice).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("OpenLedger Development")
		.with_id("openledger_dev")
		.with_protocol_id("openledger")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// A three-validator local testnet (Alice, Bob, Charlie).
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("OpenLedger Local Testnet")
		.with_id("openledger_local")
		.with_protocol_id("openledger")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// Resolves `--chain`: a built-in name or the path of a chain-spec JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development_chain_spec()?),
		"" | "local" => Box::new(local_chain_spec()?),
		path => {
			let file = std::path::PathBuf::from(path);
			if !file.is_file() {
				return Err(format!(
					"unknown chain `{path}`: expected `dev`, `local`, or the path of a chain-spec \
					 JSON file"
				));
			}
			Box::new(ChainSpec::from_json_file(file)?)
		}
	})
}
