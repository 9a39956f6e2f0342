//! Command-line interface: `run` (the default) plus the chain-maintenance subcommands.

/// The subcommands of `openledger-node`; with none, the node runs.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (`--chain dev|local|PATH`, `--raw` for the raw storage form).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification, without network configuration.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// A GPU worker attached to this node: its JSON-RPC URL (`http://HOST:PORT`). Repeatable.
	///
	/// The node's off-chain worker sends the jobs the chain assigns to these workers to them.
	/// Off-chain workers run on validators by default; a non-validator that attaches workers
	/// needs `--offchain-worker always`.
	#[arg(long = "gpu-worker", value_name = "URL", value_parser = parse_worker_url)]
	pub gpu_workers: Vec<String>,
}

/// Accepts `http://` and `https://` URLs, without a trailing slash.
fn parse_worker_url(url: &str) -> Result<String, String> {
	let rest = url
		.strip_prefix("http://")
		.or_else(|| url.strip_prefix("https://"))
		.ok_or_else(|| format!("`{url}`: a GPU worker URL starts with http:// or https://"))?;
	if rest.is_empty() || rest.contains(char::is_whitespace) {
		return Err(format!("`{url}`: not a URL"));
	}
	Ok(url.trim_end_matches('/').to_string())
}
