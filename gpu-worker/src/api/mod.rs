//! The worker's JSON-RPC API (namespace `worker`), served over HTTP and WebSocket by jsonrpsee.
//!
//! | method                    | reply |
//! |---------------------------|-------|
//! | `worker_info`             | `{"account":"0x<64 hex>","ss58","capabilities":{..},"version"}` |
//! | `worker_dispatch(job_id)` | `{"accepted":bool,"reason"?:string}` |
//! | `worker_status`           | `{"bestBlock","registered","queued","running","submitting","done","failed","lastError"}` |
//!
//! The node's off-chain worker reads `"account":"0x` + 64 lowercase hex digits out of
//! `worker_info` to learn which worker answers at an address, and calls `worker_dispatch` to
//! push a job; the worker reads the job from the chain itself, so a dispatch is only a hint.
//! The methods are thin: the [`WorkerHandle`] of the service loop does the work.

use crate::{
	chain::{self, types::Capabilities, JobKind},
	worker::{DispatchReply, StatusReport, WorkerHandle},
};
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	server::{Server, ServerHandle},
};
use serde_json::{json, Value};
use std::{future::Future, io, net::SocketAddr};
use tokio::net::ToSocketAddrs;

/// The worker's methods.
#[rpc(server, namespace = "worker")]
pub trait WorkerApi {
	/// Who this worker is: account, capabilities, version.
	#[method(name = "info")]
	fn info(&self) -> RpcResult<Value>;

	/// Asks the worker to run job `job_id` (if it is pending for this worker).
	#[method(name = "dispatch")]
	async fn dispatch(&self, job_id: u64) -> RpcResult<Value>;

	/// The worker's jobs by state, the best block it saw, its last error.
	#[method(name = "status")]
	fn status(&self) -> RpcResult<Value>;
}

/// Serves [`WorkerApiServer`] from a running loop's handle.
pub struct WorkerApi {
	handle: WorkerHandle,
}

impl WorkerApi {
	/// The API of the loop behind `handle`.
	pub fn new(handle: WorkerHandle) -> Self {
		Self { handle }
	}
}

#[async_trait]
impl WorkerApiServer for WorkerApi {
	fn info(&self) -> RpcResult<Value> {
		Ok(info_json(&self.handle.account(), self.handle.capabilities()))
	}

	async fn dispatch(&self, job_id: u64) -> RpcResult<Value> {
		Ok(dispatch_json(&self.handle.dispatch(job_id).await))
	}

	fn status(&self) -> RpcResult<Value> {
		Ok(status_json(&self.handle.status()))
	}
}

/// `worker_info`'s reply.
pub fn info_json(account: &[u8; 32], capabilities: &Capabilities) -> Value {
	json!({
		"account": format!("0x{}", hex::encode(account)),
		"ss58": chain::ss58(account),
		"capabilities": capabilities_json(capabilities),
		"version": env!("CARGO_PKG_VERSION"),
	})
}

/// Capabilities as JSON, the job kinds by name.
pub fn capabilities_json(capabilities: &Capabilities) -> Value {
	let kinds: Vec<&str> =
		JobKind::from_mask(capabilities.job_kinds).into_iter().map(JobKind::name).collect();
	json!({
		"backend": capabilities.backend.name(),
		"gpuMemoryMib": capabilities.gpu_memory_mib,
		"maxResidentAdapters": capabilities.max_resident_adapters,
		"jobKinds": kinds,
	})
}

/// `worker_dispatch`'s reply.
pub fn dispatch_json(reply: &DispatchReply) -> Value {
	let mut out = json!({ "accepted": reply.accepted });
	if let Some(reason) = &reply.reason {
		out["reason"] = json!(reason);
	}
	out
}

/// `worker_status`'s reply.
pub fn status_json(status: &StatusReport) -> Value {
	json!({
		"bestBlock": status.best_block,
		"registered": status.registered,
		"queued": status.queued,
		"running": status.running,
		"submitting": status.submitting,
		"done": status.done,
		"failed": status.failed,
		"lastError": status.last_error,
	})
}

/// A bound, not yet serving, API server.
pub struct ApiServer {
	server: Server,
}

impl ApiServer {
	/// Binds `addr` (port 0 picks a free port).
	pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Self> {
		Ok(Self { server: Server::builder().build(addr).await? })
	}

	/// The address actually bound.
	pub fn local_addr(&self) -> io::Result<SocketAddr> {
		self.server.local_addr()
	}

	/// Starts serving `handle`'s loop on the server's own tasks.
	pub fn start(self, handle: WorkerHandle) -> ServerHandle {
		self.server.start(WorkerApi::new(handle).into_rpc())
	}

	/// Serves until `shutdown` completes.
	pub async fn run_until(self, handle: WorkerHandle, shutdown: impl Future<Output = ()>) {
		let server = self.start(handle);
		shutdown.await;
		// Already stopped only if stopped twice, which this function does not do.
		let _ = server.stop();
		server.stopped().await;
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		chain::{
			testing::FakeChain,
			types::{AssignedJob, Backend},
			RpcClient,
		},
		jobs::{Executor, Executors, JobError, JobOutput},
		worker::{Config, Worker},
	};
	use std::{sync::Arc, time::Duration};

	// Alice's public key; her SS58 address with prefix 1612 from @polkadot/util-crypto.
	const ALICE: [u8; 32] = [
		0xd4, 0x35, 0x93, 0xc7, 0x15, 0xfd, 0xd3, 0x1c, 0x61, 0x14, 0x1a, 0xbd, 0x04, 0xa9, 0x9f,
		0xd6, 0x82, 0x2c, 0x85, 0x58, 0x85, 0x4c, 0xcd, 0xe3, 0x9a, 0x56, 0x84, 0xe7, 0xa5, 0x6d,
		0xa2, 0x7d,
	];

	struct Fixed;

	#[async_trait]
	impl Executor for Fixed {
		fn kind(&self) -> JobKind {
			JobKind::VerifySnapshot
		}

		async fn execute(&self, _job: &AssignedJob) -> Result<JobOutput, JobError> {
			Ok(JobOutput::new(vec![1, 2, 3]))
		}
	}

	fn capabilities() -> Capabilities {
		Capabilities {
			backend: Backend::Cpu,
			gpu_memory_mib: 0,
			max_resident_adapters: 0,
			job_kinds: JobKind::VerifySnapshot.bit(),
		}
	}

	#[test]
	fn info_names_the_account_as_the_node_reads_it() {
		let info = info_json(&ALICE, &capabilities());
		let text = info.to_string();
		// The node's off-chain worker looks for exactly this.
		let key = "\"account\":\"0x";
		let at = text.find(key).unwrap() + key.len();
		assert_eq!(&text[at..at + 64], hex::encode(ALICE));
		assert_eq!(info["ss58"], "dZogzts8TRSZ81Da4XKEEb8nBKgYGRwiXcMtbWqX2MEDXfU1A");
		assert_eq!(
			info["capabilities"],
			json!({ "backend": "cpu", "gpuMemoryMib": 0, "maxResidentAdapters": 0,
				"jobKinds": ["verifySnapshot"] })
		);
	}

	#[test]
	fn dispatch_replies_carry_a_reason_only_when_there_is_one() {
		let yes = DispatchReply { accepted: true, reason: None };
		assert_eq!(dispatch_json(&yes), json!({ "accepted": true }));
		let no = DispatchReply { accepted: false, reason: Some("not pending".into()) };
		assert_eq!(dispatch_json(&no), json!({ "accepted": false, "reason": "not pending" }));
	}

	/// The API over HTTP in front of a loop on the fake chain.
	#[tokio::test]
	async fn serves_info_dispatch_and_status() {
		let chain = Arc::new(FakeChain::registered(ALICE, 1));
		let config = Config {
			stake: 1,
			capabilities: capabilities(),
			poll: Duration::from_secs(3600),
			max_jobs: 4,
			heartbeat_blocks: 20,
		};
		let (worker, handle) = Worker::new(chain.clone(), Executors::new().with(Fixed), config);
		let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
		let running = tokio::spawn(worker.run(async {
			let _ = stopped.await;
		}));
		let server = ApiServer::bind("127.0.0.1:0").await.unwrap();
		let addr = server.local_addr().unwrap();
		let api = server.start(handle);
		let rpc = RpcClient::new(&format!("http://{addr}"));

		let info = rpc.call("worker_info", json!([])).await.unwrap();
		assert_eq!(info["account"], format!("0x{}", hex::encode(ALICE)));

		chain.wait_for_block(1).await;
		let unknown = rpc.call("worker_dispatch", json!([42])).await.unwrap();
		assert_eq!(
			unknown,
			json!({ "accepted": false, "reason": "job 42 is not pending for this worker" })
		);

		chain.assign(AssignedJob {
			id: 7,
			kind: JobKind::VerifySnapshot,
			spec: vec![],
			round: 0,
			deadline: 9,
		});
		let accepted = rpc.call("worker_dispatch", json!({ "job_id": 7 })).await.unwrap();
		assert_eq!(accepted, json!({ "accepted": true }));
		chain.wait_for("the result", |s| s.submissions.len() == 1).await;

		// The loop marks the job done once the chain's answer reaches it: poll, bounded.
		let status = tokio::time::timeout(Duration::from_secs(20), async {
			loop {
				let status = rpc.call("worker_status", json!([])).await.unwrap();
				if status["done"] == json!([7]) {
					return status;
				}
				tokio::task::yield_now().await;
			}
		})
		.await
		.expect("job 7 is reported done");
		assert_eq!(status["bestBlock"], json!(1));
		assert_eq!(status["registered"], json!(true));
		assert_eq!(status["lastError"], Value::Null);

		api.stop().unwrap();
		let _ = stop.send(());
		running.await.unwrap();
	}
}
