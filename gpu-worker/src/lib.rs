//! The GPU provider's process, `gpu-worker`.
//!
//! It keeps the bytes of Datanet contributions, and it runs as a worker of the chain: registered
//! with a stake, it is assigned jobs, runs them, and reports their results on-chain.
//!
//! A contribution is registered on-chain by its blake2-256 content hash (pallet-datanets'
//! `H256`), its size and an off-chain locator; these modules keep those bytes and get them back:
//!
//! - [`store`]: a content-addressed store on disk ([`store::DiskStore`]), verified on write and on
//!   read, served over HTTP ([`store::StoreServer`]) and reached with [`store::StoreClient`].
//! - [`fetch`]: turns a contribution's locator (`http://`, `https://`, `file://`) back into bytes,
//!   refusing anything whose hash is not the one the chain recorded.
//! - [`net`]: the small HTTP/1.1 client (plain TCP or rustls) all of them use.
//!
//! The `serve` service, in the flow of a job:
//!
//! - [`chain`]: the boundary to the node. The [`chain::Chain`] trait (register, heartbeat,
//!   assigned jobs, submit a result, snapshot manifests), JSON-RPC over HTTP, and mirrors of the
//!   pallet types. No compute.
//! - [`jobs`]: the computations, behind [`jobs::Executor`]; the first is verifying a Datanet
//!   snapshot ([`jobs::verify`]: fetch every contribution, recompute the Merkle root). No HTTP,
//!   no chain IO.
//! - [`worker`]: the service loop. Each new block it keeps the worker registered and alive,
//!   picks up its jobs (and those dispatched through the API), runs each (job, round) once with
//!   bounded concurrency, and submits the results, retrying what failed on a later block.
//! - [`openai`]: the OpenAI-compatible serving API (completions, chat, streaming), paid by
//!   signed requests and settled on-chain by batched receipts.
//! - [`api`]: the worker's JSON-RPC server (`worker_info`, `worker_dispatch`, `worker_status`),
//!   which the node's off-chain worker calls.
//!
//! The ModelFactory (LoRA fine-tuning), computation only, no IO beyond reading model files:
//!
//! - [`model`]: a pretrained Model from a GGUF file: metadata, tensors dequantized to `f32`, the
//!   Llama config and the byte-level BPE tokenizer.
//! - [`openlora`]: serving many LoRA adapters from one base Model with mixed-adapter batches.
//!
//! Training and serving land in their own modules later; `main.rs` wires the pieces into the
//! `gpu-worker` command line.

pub mod api;
pub mod attribution;
pub mod chain;
pub mod fetch;
pub mod jobs;
pub mod model;
pub mod net;
pub mod openai;
pub mod openlora;
pub mod store;
pub mod train;
pub mod worker;
