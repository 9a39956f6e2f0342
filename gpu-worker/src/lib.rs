//! The GPU provider's process, `gpu-worker`.
//!
//! Today it holds the piece every later part stands on: the bytes of Datanet contributions.
//! A contribution is registered on-chain by its blake2-256 content hash (pallet-datanets'
//! `H256`), its size and an off-chain locator; this crate keeps those bytes and gets them back:
//!
//! - [`store`]: a content-addressed store on disk ([`store::DiskStore`]), verified on write and on
//!   read, served over HTTP ([`store::StoreServer`]) and reached with [`store::StoreClient`].
//! - [`fetch`]: turns a contribution's locator (`http://`, `https://`, `file://`) back into bytes,
//!   refusing anything whose hash is not the one the chain recorded.
//! - [`net`]: the small HTTP/1.1 client (plain TCP or rustls) both of them use.
//!
//! Training, serving and the chain client land in their own modules later; `main.rs` wires the
//! pieces into the `gpu-worker` command line.

pub mod fetch;
pub mod net;
pub mod store;
