//! `openledger-node`: the OpenLedger chain's node.
//!
//! Aura authors blocks and GRANDPA finalizes them; state lives in ParityDB; off-chain workers
//! run on every imported block; the standard Substrate RPCs and the `openledger_*` methods are
//! served over JSON-RPC (HTTP and WebSocket on one port).

// sc-cli and sc-service return their own large error types; boxing them here would only add noise.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
