//! What other pallets may ask of Models. Attribution and IAO pallets depend on this trait
//! through their `Config`, never on this pallet's storage.

use pallet_datanets::SnapshotId;

use crate::types::{ModelId, VersionIndex};

/// Read access to models and their versions.
pub trait Inspect<AccountId> {
	/// The version as stored, with its lineage.
	type Version;

	/// The model's owner, if the model exists.
	fn model_owner(model: ModelId) -> Option<AccountId>;

	/// One version of a model, if both exist.
	fn model_version(model: ModelId, version: VersionIndex) -> Option<Self::Version>;

	/// The model's active version, if the model exists and has one.
	fn active_version(model: ModelId) -> Option<VersionIndex>;

	/// The Datanet snapshot the version was trained on, if both exist.
	fn version_snapshot(model: ModelId, version: VersionIndex) -> Option<SnapshotId>;
}
