//! `gpu-worker`: the GPU provider's command line.
//!
//! Today's subcommands run and use the content store for Datanet contributions:
//!
//! ```text
//! gpu-worker store --dir DIR --listen 127.0.0.1:PORT [--max-bytes N]   serve a store
//! gpu-worker store-put --url http://127.0.0.1:PORT FILE...              upload, print "0x<hash> <size> <locator>"
//! gpu-worker hash FILE                                                  print the blake2-256 content hash
//! gpu-worker fetch LOCATOR --expect 0x<hash> [-o FILE]                  download and verify
//! ```

use clap::{Parser, Subcommand};
use gpu_worker::{
	fetch::Fetcher,
	store::{ContentHash, DiskStore, ServiceConfig, StoreClient, StoreServer},
};
use std::{
	io::Write,
	net::SocketAddr,
	path::{Path, PathBuf},
	process::ExitCode,
};

#[derive(Parser)]
#[command(name = "gpu-worker", version, about = "OpenLedger GPU provider process")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Serve a content-addressed store of Datanet contribution bytes over HTTP.
	///
	/// The first line on stdout is `listening on http://ADDR`, so `--listen 127.0.0.1:0` can be
	/// used and the port read back.
	Store {
		/// Directory holding the objects (created if missing).
		#[arg(long)]
		dir: PathBuf,
		/// Address to listen on, e.g. 127.0.0.1:8090 (port 0 picks a free one).
		#[arg(long)]
		listen: SocketAddr,
		/// Largest object accepted, in bytes.
		#[arg(long, default_value_t = gpu_worker::store::DEFAULT_MAX_OBJECT_BYTES)]
		max_bytes: u64,
		/// Connections served at once.
		#[arg(long, default_value_t = ServiceConfig::default().max_connections)]
		max_connections: usize,
	},
	/// Upload files to a running store; prints `0x<hash> <size> <locator>` per file.
	StorePut {
		/// Base URL of the store, e.g. http://127.0.0.1:8090.
		#[arg(long)]
		url: String,
		/// Files to upload.
		#[arg(required = true)]
		files: Vec<PathBuf>,
	},
	/// Print the blake2-256 content hash of a file, as `0x` + 64 hex digits.
	Hash {
		/// The file.
		file: PathBuf,
	},
	/// Fetch content by locator (http://, https://, file://) and verify its hash.
	Fetch {
		/// Where the content is.
		locator: String,
		/// The content hash it must have.
		#[arg(long)]
		expect: ContentHash,
		/// Write here instead of stdout.
		#[arg(long, short)]
		output: Option<PathBuf>,
	},
}

#[tokio::main]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	let result = match cli.command {
		Command::Store { dir, listen, max_bytes, max_connections } => {
			serve(&dir, listen, max_bytes, max_connections).await
		}
		Command::StorePut { url, files } => store_put(&url, &files).await,
		Command::Hash { file } => hash(&file),
		Command::Fetch { locator, expect, output } => fetch(&locator, expect, output).await,
	};
	match result {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			// Every error's message already includes its cause.
			eprintln!("error: {e}");
			ExitCode::FAILURE
		}
	}
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn serve(
	dir: &Path,
	listen: SocketAddr,
	max_bytes: u64,
	max_connections: usize,
) -> Result<(), AnyError> {
	let store = DiskStore::open(dir, max_bytes)?;
	let config = ServiceConfig { max_connections, ..ServiceConfig::default() };
	let server = StoreServer::bind(listen, store, config).await?;
	let addr = server.local_addr()?;
	// Scripts read this first line to learn the port; stdout is line-buffered, so it goes out now.
	println!("listening on http://{addr}");
	eprintln!("store: serving {} (objects up to {max_bytes} bytes)", dir.display());
	server
		.run_until(async {
			// Ctrl-C ends the server cleanly; writes are atomic, so any other kill is safe too.
			let _ = tokio::signal::ctrl_c().await;
		})
		.await;
	Ok(())
}

async fn store_put(url: &str, files: &[PathBuf]) -> Result<(), AnyError> {
	let client = StoreClient::new(url);
	for file in files {
		let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
		let size = bytes.len();
		let (hash, _outcome) =
			client.put(bytes).await.map_err(|e| format!("uploading {}: {e}", file.display()))?;
		println!("{hash} {size} {}", client.locator(&hash));
	}
	Ok(())
}

fn hash(file: &Path) -> Result<(), AnyError> {
	let bytes = std::fs::read(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
	println!("{}", ContentHash::of(&bytes));
	Ok(())
}

async fn fetch(
	locator: &str,
	expect: ContentHash,
	output: Option<PathBuf>,
) -> Result<(), AnyError> {
	let bytes = Fetcher::new().fetch(locator, expect).await?;
	match output {
		Some(path) => {
			std::fs::write(&path, &bytes).map_err(|e| format!("writing {}: {e}", path.display()))?
		}
		None => std::io::stdout().write_all(&bytes)?,
	}
	Ok(())
}
