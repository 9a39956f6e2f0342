//! Content-addressed store for Datanet contribution bytes.
//!
//! Bytes are named by their blake2-256 hash ([`ContentHash`]), the same hash pallet-datanets
//! records for a contribution, so a locator pointing here can be checked against the chain.
//!
//! - [`hash`]: the hash type and its `0x`-hex text form (pure).
//! - [`disk`]: the on-disk store: sharded by hash prefix, atomic writes, verified on write and read.
//! - [`routes`]: the HTTP API as pure functions: request line to [`routes::Route`], error to status.
//! - [`service`]: the hyper server that serves a [`DiskStore`] (the IO around `routes`).
//! - [`client`]: uploads to a running store; used by `gpu-worker store-put`.

pub mod client;
pub mod disk;
pub mod hash;
pub mod routes;
pub mod service;

pub use client::{StoreClient, StoreClientError};
pub use disk::{DiskStore, PutOutcome, StoreError};
pub use hash::{ContentHash, ParseHashError};
pub use service::{ServiceConfig, StoreServer};

/// Largest object the store accepts unless configured otherwise: 16 MiB.
///
/// Contributions are small records (text, labelled examples); a bigger limit only widens what a
/// single request can make the server buffer.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 16 * 1024 * 1024;
