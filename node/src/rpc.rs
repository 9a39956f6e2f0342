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
	AccountId, Balance, BlockNumber, Nonce,
};
use pallet_attribution::{runtime_api::AttributionApi, ModelId, VersionIndex};
use pallet_datanets::{
	runtime_api::DatanetsApi,
	types::{
		AccessPolicy, ContributionId, ContributionProof, ContributionStatus, ContributionView,
		DatanetId, DatanetStatus, DatanetView, Snapshot, SnapshotId,
	},
};
use pallet_emissions::runtime_api::EmissionsApi;
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

	/// Datanets by id from `start` (default 0), at most `limit` (default and cap 1,000).
	#[method(name = "datanets")]
	fn datanets(
		&self,
		start: Option<DatanetId>,
		limit: Option<u32>,
		at: Option<BlockHash>,
	) -> RpcResult<Vec<Value>>;

	/// One Datanet, or null.
	#[method(name = "datanet")]
	fn datanet(&self, datanet: DatanetId, at: Option<BlockHash>) -> RpcResult<Option<Value>>;

	/// A Datanet's contributions in submission order from index `start` (default 0), at most
	/// `limit` (default and cap 1,000).
	#[method(name = "contributions")]
	fn contributions(
		&self,
		datanet: DatanetId,
		start: Option<u32>,
		limit: Option<u32>,
		at: Option<BlockHash>,
	) -> RpcResult<Vec<Value>>;

	/// One contribution, or null.
	#[method(name = "contribution")]
	fn contribution(
		&self,
		contribution: ContributionId,
		at: Option<BlockHash>,
	) -> RpcResult<Option<Value>>;

	/// A Datanet's snapshots from version `start` (default 1), at most `limit` (default and cap
	/// 1,000).
	#[method(name = "snapshots")]
	fn snapshots(
		&self,
		datanet: DatanetId,
		start: Option<u32>,
		limit: Option<u32>,
		at: Option<BlockHash>,
	) -> RpcResult<Vec<Value>>;

	/// One snapshot (root, count, total bytes), or null.
	#[method(name = "snapshot")]
	fn snapshot(&self, snapshot: SnapshotId, at: Option<BlockHash>) -> RpcResult<Option<Value>>;

	/// A Merkle proof that the contribution is in the snapshot, or null if it is not. The leaf is
	/// `blake2_256(SCALE(id: u64, content_hash: [u8; 32], size: u64))`, a parent is
	/// `blake2_256(left ++ right)`, and an odd last node is promoted unchanged.
	#[method(name = "contributionProof")]
	fn contribution_proof(
		&self,
		snapshot: SnapshotId,
		contribution: ContributionId,
		at: Option<BlockHash>,
	) -> RpcResult<Option<Value>>;

	/// Proof of Attribution rewards an account (SS58 or 0x-hex) may claim now, in plancks:
	/// its shares of inference fees as a model owner, a data contributor, a serving worker.
	#[method(name = "attributionRewards")]
	fn attribution_rewards(&self, account: String, at: Option<BlockHash>) -> RpcResult<Value>;

	/// The attribution history of a contribution: paid inferences attributed to it, their
	/// summed weight (parts per billion), what it earned and when it last did; null if none.
	#[method(name = "contributionAttribution")]
	fn contribution_attribution(
		&self,
		contribution: ContributionId,
		at: Option<BlockHash>,
	) -> RpcResult<Option<Value>>;

	/// The attribution history of a model version: paid inferences, fees, and where they went
	/// (owner, contributors, workers, treasury); null if none.
	#[method(name = "versionAttribution")]
	fn version_attribution(
		&self,
		model: ModelId,
		version: VersionIndex,
		at: Option<BlockHash>,
	) -> RpcResult<Option<Value>>;

	/// How fees are split now (parts per billion) and the per-contributor cap, with the pot.
	#[method(name = "attributionParams")]
	fn attribution_params(&self, at: Option<BlockHash>) -> RpcResult<Value>;

	/// The emissions schedule: eras, where it is, the streams' shares, what each pool started
	/// with and released, what is left and what was paid.
	#[method(name = "emissions")]
	fn emissions(&self, at: Option<BlockHash>) -> RpcResult<Value>;

	/// What era `era` released and paid per stream (points, accounts, budget, settled); null
	/// before it has any record.
	#[method(name = "emissionsEra")]
	fn emissions_era(&self, era: u32, at: Option<BlockHash>) -> RpcResult<Option<Value>>;

	/// What an account (SS58 or 0x-hex) earned from emissions: claimable, earned in closed
	/// eras and not settled yet, points in the open era per stream, claimed so far.
	#[method(name = "emissionsEarnings")]
	fn emissions_earnings(&self, account: String, at: Option<BlockHash>) -> RpcResult<Value>;
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
	C::Api: TokenomicsApi<Block>
		+ DatanetsApi<Block, AccountId, Balance, BlockNumber>
		+ AttributionApi<Block, AccountId, Balance, BlockNumber>
		+ EmissionsApi<Block, AccountId, Balance, BlockNumber>,
{
	fn tokenomics(&self, at: Option<<Block as BlockT>::Hash>) -> RpcResult<Value> {
		let info = self.client.runtime_api().tokenomics(self.at(at)).map_err(runtime_error)?;
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

	fn datanets(
		&self,
		start: Option<DatanetId>,
		limit: Option<u32>,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Vec<Value>> {
		let views = self
			.client
			.runtime_api()
			.datanets(self.at(at), start.unwrap_or(0), limit.unwrap_or(u32::MAX))
			.map_err(runtime_error)?;
		Ok(views.iter().map(datanet_json).collect())
	}

	fn datanet(
		&self,
		datanet: DatanetId,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Option<Value>> {
		let view =
			self.client.runtime_api().datanet(self.at(at), datanet).map_err(runtime_error)?;
		Ok(view.as_ref().map(datanet_json))
	}

	fn contributions(
		&self,
		datanet: DatanetId,
		start: Option<u32>,
		limit: Option<u32>,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Vec<Value>> {
		let views = self
			.client
			.runtime_api()
			.contributions(self.at(at), datanet, start.unwrap_or(0), limit.unwrap_or(u32::MAX))
			.map_err(runtime_error)?;
		Ok(views.iter().map(contribution_json).collect())
	}

	fn contribution(
		&self,
		contribution: ContributionId,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Option<Value>> {
		let view = self
			.client
			.runtime_api()
			.contribution(self.at(at), contribution)
			.map_err(runtime_error)?;
		Ok(view.as_ref().map(contribution_json))
	}

	fn snapshots(
		&self,
		datanet: DatanetId,
		start: Option<u32>,
		limit: Option<u32>,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Vec<Value>> {
		let snapshots = self
			.client
			.runtime_api()
			.snapshots(self.at(at), datanet, start.unwrap_or(1), limit.unwrap_or(u32::MAX))
			.map_err(runtime_error)?;
		Ok(snapshots.iter().map(|(id, snapshot)| snapshot_json(*id, snapshot)).collect())
	}

	fn snapshot(
		&self,
		snapshot: SnapshotId,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Option<Value>> {
		let found =
			self.client.runtime_api().snapshot(self.at(at), snapshot).map_err(runtime_error)?;
		Ok(found.map(|s| snapshot_json(snapshot, &s)))
	}

	fn contribution_proof(
		&self,
		snapshot: SnapshotId,
		contribution: ContributionId,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Option<Value>> {
		let proof = self
			.client
			.runtime_api()
			.contribution_proof(self.at(at), snapshot, contribution)
			.map_err(runtime_error)?;
		Ok(proof.as_ref().map(proof_json))
	}

	fn attribution_rewards(
		&self,
		account: String,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Value> {
		let who = parse_account(&account)?;
		let owed = self
			.client
			.runtime_api()
			.rewards_of(self.at(at), who.clone())
			.map_err(runtime_error)?;
		Ok(json!({ "account": ss58(&who), "claimable": amount(owed) }))
	}

	fn contribution_attribution(
		&self,
		contribution: ContributionId,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Option<Value>> {
		let record = self
			.client
			.runtime_api()
			.contribution_record(self.at(at), contribution)
			.map_err(runtime_error)?;
		Ok(record.map(|r| {
			json!({
				"contribution": contribution,
				"inferences": r.inferences,
				"weightSum": r.weight_sum,
				"earned": amount(r.earned),
				"lastAt": r.last_at,
			})
		}))
	}

	fn version_attribution(
		&self,
		model: ModelId,
		version: VersionIndex,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Option<Value>> {
		let record = self
			.client
			.runtime_api()
			.version_record(self.at(at), model, version)
			.map_err(runtime_error)?;
		Ok(record.map(|r| {
			json!({
				"model": model,
				"version": version,
				"inferences": r.inferences,
				"fees": amount(r.fees),
				"toOwner": amount(r.to_owner),
				"toContributors": amount(r.to_contributors),
				"toWorkers": amount(r.to_workers),
				"toTreasury": amount(r.to_treasury),
			})
		}))
	}

	fn attribution_params(&self, at: Option<<Block as BlockT>::Hash>) -> RpcResult<Value> {
		let api = self.client.runtime_api();
		let at = self.at(at);
		let params = api.params(at).map_err(runtime_error)?;
		let pot = AttributionApi::pot(&*api, at).map_err(runtime_error)?;
		let ppb = |p: sp_runtime::Perbill| p.deconstruct();
		Ok(json!({
			"owner": ppb(params.shares.owner),
			"contributors": ppb(params.shares.contributors),
			"workers": ppb(params.shares.workers),
			"treasury": ppb(params.shares.treasury),
			"contributorCap": ppb(params.contributor_cap),
			"pot": ss58(&pot),
		}))
	}

	fn emissions(&self, at: Option<<Block as BlockT>::Hash>) -> RpcResult<Value> {
		let api = self.client.runtime_api();
		let at = self.at(at);
		let s = api.schedule(at).map_err(runtime_error)?;
		let pot = EmissionsApi::pot(&*api, at).map_err(runtime_error)?;
		let ppb = |p: sp_runtime::Perbill| p.deconstruct();
		let pool = |p: &pallet_emissions::PoolLedger<Balance>| json!({ "initial": amount(p.initial), "released": amount(p.released) });
		let curve = match s.curve {
			pallet_emissions::Curve::Linear => json!({ "linear": null }),
			pallet_emissions::Curve::Tapered { first_to_last_percent } => {
				json!({ "tapered": { "firstToLastPercent": first_to_last_percent } })
			}
		};
		Ok(json!({
			"started": s.started,
			"start": s.start,
			"eraLength": s.era_length,
			"eras": s.eras,
			"openEra": s.open_era,
			"openEraEndsAt": s.open_era_ends_at,
			"finished": s.finished,
			"curve": curve,
			"shares": {
				"contributors": ppb(s.shares.contributors),
				"workers": ppb(s.shares.workers),
				"curators": ppb(s.shares.curators),
				"authors": ppb(s.shares.authors),
				"treasury": ppb(s.shares.treasury),
			},
			"community": pool(&s.community),
			"ecosystem": pool(&s.ecosystem),
			"remaining": amount(s.remaining),
			"paid": amount(s.paid),
			"pot": ss58(&pot),
		}))
	}

	fn emissions_era(
		&self,
		era: u32,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Option<Value>> {
		let record = self.client.runtime_api().era(self.at(at), era).map_err(runtime_error)?;
		let tally = |t: &pallet_emissions::StreamTally<Balance>| {
			json!({
				"points": t.points.to_string(),
				"accounts": t.accounts,
				"budget": amount(t.budget),
				"settled": amount(t.settled),
			})
		};
		Ok(record.map(|r| {
			json!({
				"era": era,
				"fromCommunity": amount(r.from_community),
				"fromEcosystem": amount(r.from_ecosystem),
				"contributors": tally(&r.contributors),
				"workers": tally(&r.workers),
				"curators": tally(&r.curators),
				"authors": tally(&r.authors),
				"toTreasury": amount(r.to_treasury),
			})
		}))
	}

	fn emissions_earnings(
		&self,
		account: String,
		at: Option<<Block as BlockT>::Hash>,
	) -> RpcResult<Value> {
		let who = parse_account(&account)?;
		let e = self.client.runtime_api().earnings(self.at(at), who).map_err(runtime_error)?;
		Ok(json!({
			"claimable": amount(e.claimable),
			"unsettled": amount(e.unsettled),
			"accruing": {
				"contributors": e.accruing.contributors.to_string(),
				"workers": e.accruing.workers.to_string(),
				"curators": e.accruing.curators.to_string(),
				"authors": e.accruing.authors.to_string(),
			},
			"claimed": amount(e.claimed),
		}))
	}
}

/// An account given as SS58 (any prefix) or 0x-hex of its 32 bytes.
fn parse_account(text: &str) -> Result<AccountId, ErrorObjectOwned> {
	let bad = || ErrorObjectOwned::owned(2, format!("not an account: {text}"), None::<()>);
	if text.starts_with("0x") {
		let bytes: [u8; 32] =
			sp_core::bytes::from_hex(text).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
		return Ok(AccountId::from(bytes));
	}
	AccountId::from_ss58check_with_version(text).map(|(who, _)| who).map_err(|_| bad())
}

impl<C: HeaderBackend<Block>> OpenLedger<C> {
	/// The block to answer at: the one asked for, else the best block.
	fn at(&self, at: Option<<Block as BlockT>::Hash>) -> <Block as BlockT>::Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}
}

fn hex(bytes: &[u8]) -> String {
	let mut out = String::with_capacity(2 + bytes.len() * 2);
	out.push_str("0x");
	for byte in bytes {
		out.push_str(&format!("{byte:02x}"));
	}
	out
}

fn text(bytes: &[u8]) -> Value {
	Value::String(String::from_utf8_lossy(bytes).into_owned())
}

fn datanet_json(view: &DatanetView<AccountId, Balance, BlockNumber>) -> Value {
	let access = match &view.access {
		AccessPolicy::Public => json!({ "kind": "public" }),
		AccessPolicy::Allowlist(accounts) => {
			json!({ "kind": "allowlist", "accounts": accounts.iter().map(ss58).collect::<Vec<_>>() })
		}
		AccessPolicy::FeePerUse(fee) => json!({ "kind": "feePerUse", "fee": amount(*fee) }),
	};
	let status = match view.status {
		DatanetStatus::Open => "open",
		DatanetStatus::Paused => "paused",
		DatanetStatus::Closed => "closed",
	};
	json!({
		"id": view.id,
		"owner": ss58(&view.owner),
		"name": text(&view.name),
		"description": text(&view.description),
		"tags": view.tags.iter().map(|t| text(t)).collect::<Vec<_>>(),
		"license": text(&view.license),
		"rules": {
			"maxBytes": view.rules.max_bytes,
			"mediaTypes": view.rules.media_types.iter().map(|m| text(m)).collect::<Vec<_>>(),
		},
		"access": access,
		"status": status,
		"deposit": amount(view.deposit),
		"createdAt": view.created_at,
		"curators": view.curators.iter().map(ss58).collect::<Vec<_>>(),
		"counters": {
			"submitted": view.counters.submitted,
			"pending": view.counters.pending,
			"accepted": view.counters.accepted,
			"acceptedBytes": view.counters.accepted_bytes,
			"snapshots": view.counters.snapshots,
		},
	})
}

fn contribution_json(view: &ContributionView<AccountId, Balance, BlockNumber>) -> Value {
	let status = match &view.status {
		ContributionStatus::Pending => json!({ "status": "pending" }),
		ContributionStatus::Accepted { position, at } => {
			json!({ "status": "accepted", "position": position, "at": at })
		}
		ContributionStatus::Rejected { reason, at } => {
			json!({ "status": "rejected", "reason": reason, "at": at })
		}
		ContributionStatus::Withdrawn { at } => json!({ "status": "withdrawn", "at": at }),
	};
	json!({
		"id": view.id,
		"datanet": view.datanet,
		"index": view.index,
		"contributor": ss58(&view.contributor),
		"contentHash": hex(view.content_hash.as_bytes()),
		"size": view.size,
		"mediaType": text(&view.media_type),
		"locator": text(&view.locator),
		"metadata": text(&view.metadata),
		"deposit": amount(view.deposit),
		"curation": status,
		"submittedAt": view.submitted_at,
	})
}

fn snapshot_json(id: SnapshotId, snapshot: &Snapshot<AccountId, BlockNumber>) -> Value {
	json!({
		"id": id,
		"datanet": snapshot.datanet,
		"version": snapshot.version,
		"root": hex(snapshot.root.as_bytes()),
		"count": snapshot.count,
		"totalBytes": snapshot.total_bytes,
		"createdBy": ss58(&snapshot.created_by),
		"createdAt": snapshot.created_at,
	})
}

fn proof_json(proof: &ContributionProof) -> Value {
	json!({
		"snapshot": proof.snapshot,
		"contribution": proof.contribution,
		"contentHash": hex(proof.content_hash.as_bytes()),
		"size": proof.size,
		"leaf": hex(proof.leaf.as_bytes()),
		"root": hex(proof.root.as_bytes()),
		"leafIndex": proof.proof.leaf_index,
		"leafCount": proof.proof.leaf_count,
		"siblings": proof.proof.siblings.iter().map(|s| hex(s.as_bytes())).collect::<Vec<_>>(),
	})
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
	C::Api: DatanetsApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: AttributionApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: EmissionsApi<Block, AccountId, Balance, BlockNumber>,
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
