//! The node's JSON-RPC: the standard Substrate methods (system, author, chain, state come from
//! sc-service; account nonces and fees are added here) and the `openledger_*` namespace.
//!
//! `openledger_*` is the extension point for the domain pallets: each later pallet adds its
//! methods to [`OpenLedgerApiServer`], backed by a runtime API, so that dApps read the chain's
//! domain state without decoding storage.

use std::sync::Arc;

use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
	RpcModule,
};
use openledger_runtime::{
	opaque::Block,
	tokenomics::{TokenomicsApi, SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL},
	AccountId, Balance, Nonce,
};
use sc_transaction_pool_api::TransactionPool;
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
use sp_runtime::traits::Block as BlockT;

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
}

/// OpenLedger's own RPC methods.
#[rpc(server, namespace = "openledger")]
pub trait OpenLedgerApi<BlockHash> {
	/// The OPEN token: symbol, decimals, SS58 prefix, fixed supply, total issuance, and the
	/// keyless pools with their balances (at the best block, or at `at`). Amounts are decimal
	/// strings in plancks; addresses are SS58 with prefix 1612.
	#[method(name = "tokenomics")]
	fn tokenomics(&self, at: Option<BlockHash>) -> RpcResult<Value>;
}

/// Serves [`OpenLedgerApiServer`] from the runtime APIs.
pub struct OpenLedger<C> {
	client: Arc<C>,
}

impl<C> OpenLedger<C> {
	/// Creates the RPC handler.
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

fn runtime_error(error: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(1, format!("runtime API call failed: {error}"), None::<()>)
}

/// An SS58 address with OpenLedger's prefix.
pub fn ss58(account: &AccountId) -> String {
	account.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
}

fn amount(value: Balance) -> Value {
	Value::String(value.to_string())
}

#[async_trait]
impl<C> OpenLedgerApiServer<<Block as BlockT>::Hash> for OpenLedger<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: TokenomicsApi<Block>,
{
	fn tokenomics(&self, at: Option<<Block as BlockT>::Hash>) -> RpcResult<Value> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let info = self.client.runtime_api().tokenomics(at).map_err(runtime_error)?;
		let pools: Vec<Value> = info
			.pools
			.iter()
			.map(|pool| {
				json!({
					"name": String::from_utf8_lossy(&pool.name),
					"address": ss58(&pool.account),
					"free": amount(pool.free),
				})
			})
			.collect();
		Ok(json!({
			"symbol": TOKEN_SYMBOL,
			"decimals": TOKEN_DECIMALS,
			"ss58Format": SS58_PREFIX,
			"supply": amount(info.supply),
			"totalIssuance": amount(info.total_issuance),
			"pools": pools,
		}))
	}
}

/// Builds the RPC extensions of a full node.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>,
	C: HeaderBackend<Block> + HeaderMetadata<Block, Error = BlockChainError> + 'static,
	C: Send + Sync + 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: TokenomicsApi<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(OpenLedger::new(client).into_rpc())?;

	Ok(module)
}
