//! The runtime APIs the node calls: the standard set (core, block building, transaction pool,
//! off-chain workers, Aura, GRANDPA, session keys, nonces, fees, genesis presets) and
//! OpenLedger's own, which the node's `openledger_*` RPC methods serve.

use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	traits::fungible::Inspect,
	weights::Weight,
};
use pallet_grandpa::AuthorityId as GrandpaId;
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use pallet_datanets::types::{
	ContributionId, ContributionProof, ContributionView, DatanetId, DatanetView, Snapshot,
	SnapshotId,
};

use super::{
	genesis, tokenomics, AccountId, Attribution, Aura, Balance, Balances, Block, BlockNumber,
	Compute, Datanets, Emissions, Executive, Grandpa, Iao, Inference, InherentDataExt, Models,
	Nonce, Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys, System, TransactionPayment,
	VERSION,
};

/// The pools and the treasury with their current free balances.
fn tokenomics_info() -> tokenomics::TokenomicsInfo {
	let pools = [
		(&b"community"[..], tokenomics::community_pool_account()),
		(&b"ecosystem"[..], tokenomics::ecosystem_pool_account()),
		(&b"treasury"[..], tokenomics::treasury_account()),
	]
	.into_iter()
	.map(|(name, account)| tokenomics::PoolBalance {
		name: name.to_vec(),
		free: Balances::balance(&account),
		account,
	})
	.collect();
	tokenomics::TokenomicsInfo {
		supply: tokenomics::TOTAL_SUPPLY,
		total_issuance: Balances::total_issuance(),
		pools,
	}
}

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(
			owner: Vec<u8>,
			seed: Option<Vec<u8>>,
		) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			pallet_grandpa::CurrentSetId::<Runtime>::get()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			// Equivocation reports need a session-historical key owner proof; this chain has
			// no session pallet yet, so there is nothing to report against.
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			None
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}
		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}
		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, genesis::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			genesis::preset_names()
		}
	}

	impl pallet_datanets::runtime_api::DatanetsApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn datanets(start: DatanetId, limit: u32) -> Vec<DatanetView<AccountId, Balance, BlockNumber>> {
			Datanets::api_datanets(start, limit)
		}
		fn datanet(datanet: DatanetId) -> Option<DatanetView<AccountId, Balance, BlockNumber>> {
			Datanets::api_datanet(datanet)
		}
		fn contributions(
			datanet: DatanetId,
			start: u32,
			limit: u32,
		) -> Vec<ContributionView<AccountId, Balance, BlockNumber>> {
			Datanets::api_contributions(datanet, start, limit)
		}
		fn contribution(
			contribution: ContributionId,
		) -> Option<ContributionView<AccountId, Balance, BlockNumber>> {
			Datanets::api_contribution(contribution)
		}
		fn snapshots(
			datanet: DatanetId,
			start_version: u32,
			limit: u32,
		) -> Vec<(SnapshotId, Snapshot<AccountId, BlockNumber>)> {
			Datanets::api_snapshots(datanet, start_version, limit)
		}
		fn snapshot(snapshot: SnapshotId) -> Option<Snapshot<AccountId, BlockNumber>> {
			Datanets::api_snapshot(snapshot)
		}
		fn contribution_proof(
			snapshot: SnapshotId,
			contribution: ContributionId,
		) -> Option<ContributionProof> {
			Datanets::api_contribution_proof(snapshot, contribution)
		}
	}

	impl pallet_compute::runtime_api::ComputeApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn worker(who: AccountId) -> Option<pallet_compute::WorkerInfo<Balance, BlockNumber>> {
			Compute::api_worker(who)
		}
		fn workers() -> Vec<(AccountId, pallet_compute::WorkerInfo<Balance, BlockNumber>)> {
			Compute::api_workers()
		}
		fn job(job: pallet_compute::JobId) -> Option<pallet_compute::JobView<AccountId, Balance, BlockNumber>> {
			Compute::api_job(job)
		}
		fn assigned_jobs(who: AccountId) -> Vec<pallet_compute::JobView<AccountId, Balance, BlockNumber>> {
			Compute::api_assigned_jobs(who)
		}
		fn job_results(job: pallet_compute::JobId) -> Vec<(AccountId, sp_core::H256)> {
			Compute::api_job_results(job)
		}
	}

	impl pallet_models::runtime_api::ModelsApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn base_model(
			base: pallet_models::BaseModelId,
		) -> Option<pallet_models::BaseModelView<AccountId, Balance, BlockNumber>> {
			Models::api_base_model(base)
		}
		fn model(
			model: pallet_models::ModelId,
		) -> Option<pallet_models::ModelView<AccountId, BlockNumber>> {
			Models::api_model(model)
		}
		fn model_version(
			model: pallet_models::ModelId,
			version: pallet_models::VersionIndex,
		) -> Option<pallet_models::ModelVersionView<AccountId, BlockNumber>> {
			Models::api_model_version(model, version)
		}
		fn versions(
			model: pallet_models::ModelId,
		) -> Vec<pallet_models::ModelVersionView<AccountId, BlockNumber>> {
			Models::api_versions(model)
		}
		fn pending_finetune(
			job: pallet_compute::JobId,
		) -> Option<pallet_models::Finetune<AccountId>> {
			Models::api_pending_finetune(job)
		}
	}

	impl pallet_inference::runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber>
		for Runtime
	{
		fn deposit_of(who: AccountId) -> pallet_inference::DepositInfo<Balance, BlockNumber> {
			Inference::api_deposit_of(who)
		}
		fn price_of(model: pallet_models::ModelId) -> Option<Balance> {
			Inference::api_price_of(model)
		}
		fn nonce_of(client: AccountId, worker: AccountId) -> u64 {
			Inference::api_nonce_of(client, worker)
		}
		fn signing_payload(
			worker: AccountId,
			model: pallet_models::ModelId,
			version: pallet_models::VersionIndex,
			request_hash: sp_core::H256,
			nonce: u64,
			max_fee: Balance,
		) -> Vec<u8> {
			Inference::api_signing_payload(worker, model, version, request_hash, nonce, max_fee)
		}
		fn pending_infer(
			job: pallet_compute::JobId,
		) -> Option<pallet_inference::PendingInfer<AccountId, Balance>> {
			Inference::api_pending_infer(job)
		}
	}

	impl pallet_attribution::runtime_api::AttributionApi<Block, AccountId, Balance, BlockNumber>
		for Runtime
	{
		fn rewards_of(who: AccountId) -> Balance {
			Attribution::api_rewards_of(who)
		}
		fn contribution_record(
			contribution: u64,
		) -> Option<pallet_attribution::ContributionRecord<Balance, BlockNumber>> {
			Attribution::api_contribution_record(contribution)
		}
		fn version_record(
			model: pallet_models::ModelId,
			version: pallet_models::VersionIndex,
		) -> Option<pallet_attribution::VersionRecord<Balance>> {
			Attribution::api_version_record(model, version)
		}
		fn params() -> pallet_attribution::Params {
			Attribution::api_params()
		}
		fn pot() -> AccountId {
			Attribution::pot()
		}
	}

	impl pallet_emissions::runtime_api::EmissionsApi<Block, AccountId, Balance, BlockNumber>
		for Runtime
	{
		fn schedule() -> pallet_emissions::ScheduleInfo<Balance, BlockNumber> {
			Emissions::api_schedule()
		}
		fn projected_releases() -> Vec<pallet_emissions::ProjectedRelease<Balance>> {
			Emissions::api_projected_releases()
		}
		fn era(era: pallet_emissions::EraIndex) -> Option<pallet_emissions::EraRecord<Balance>> {
			Emissions::api_era(era)
		}
		fn earnings(who: AccountId) -> pallet_emissions::Earnings<Balance> {
			Emissions::api_earnings(who)
		}
		fn pot() -> AccountId {
			Emissions::pot()
		}
	}

	impl pallet_iao::runtime_api::IaoApi<Block, AccountId, Balance, BlockNumber> for Runtime {
		fn offering(
			offering: pallet_iao::OfferingId,
		) -> Option<pallet_iao::OfferingView<AccountId, Balance, BlockNumber>> {
			Iao::api_offering(offering)
		}
		fn model_offering(model: pallet_models::ModelId) -> Option<pallet_iao::OfferingId> {
			Iao::api_model_offering(model)
		}
		fn position(offering: pallet_iao::OfferingId, who: AccountId) -> pallet_iao::Position<Balance> {
			Iao::api_position(offering, who)
		}
		fn open_proposals(
			offering: pallet_iao::OfferingId,
		) -> Vec<(pallet_iao::ProposalId, pallet_iao::Proposal<AccountId, Balance, BlockNumber>)> {
			Iao::api_open_proposals(offering)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use super::benches::{BaselineBench, SystemBench};
			use super::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			let storage_info = super::AllPalletsWithSystem::storage_info();
			(list, storage_info)
		}

		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::WhitelistedStorageKeys;
			use sp_storage::TrackedStorageKey;
			use super::benches::{BaselineBench, SystemBench};
			use super::*;

			let whitelist: Vec<TrackedStorageKey> =
				super::AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	impl tokenomics::TokenomicsApi<Block> for Runtime {
		fn tokenomics() -> tokenomics::TokenomicsInfo {
			tokenomics_info()
		}
	}
}
