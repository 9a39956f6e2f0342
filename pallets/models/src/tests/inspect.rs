//! The `Inspect` trait other pallets read models through, and the runtime API's queries.

use super::*;
use crate::traits::Inspect;

#[test]
fn inspect_answers_about_models_and_versions() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		add_version(base, snapshot, model, 2);
		type I = Models;
		assert_eq!(<I as Inspect<AccountId>>::model_owner(model), Some(ALICE));
		assert_eq!(<I as Inspect<AccountId>>::model_owner(model + 1), None);
		assert_eq!(<I as Inspect<AccountId>>::active_version(model), Some(1));
		assert_eq!(<I as Inspect<AccountId>>::active_version(model + 1), None);
		assert_eq!(<I as Inspect<AccountId>>::version_snapshot(model, 2), Some(snapshot));
		assert_eq!(<I as Inspect<AccountId>>::version_snapshot(model, 3), None);
		assert_eq!(
			<I as Inspect<AccountId>>::model_version(model, 2),
			ModelVersions::<Test>::get(model, 2)
		);
		assert!(<I as Inspect<AccountId>>::model_version(model, 2).is_some());
		assert_eq!(<I as Inspect<AccountId>>::model_version(model, 0), None);
	});
}

#[test]
fn runtime_api_returns_plain_views() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		add_version(base, snapshot, model, 2);
		let view = Models::api_base_model(base).unwrap();
		assert_eq!((view.id, view.owner, view.content_hash), (base, ALICE, model_file(0)));
		assert_eq!((view.name, view.architecture), (b"SmolLM2-135M".to_vec(), b"llama".to_vec()));
		assert_eq!((view.license, view.deposit), (b"apache-2.0".to_vec(), BASE_DEPOSIT));
		assert!(Models::api_base_model(base + 1).is_none());

		let view = Models::api_model(model).unwrap();
		assert_eq!((view.id, view.owner, view.versions, view.active), (model, ALICE, 2, Some(1)));
		assert!(Models::api_model(model + 1).is_none());

		let versions = Models::api_versions(model);
		assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1, 2]);
		assert_eq!(versions[1].adapter_hash, H256::repeat_byte(2));
		assert_eq!(versions[1].snapshot, snapshot);
		assert_eq!(Models::api_model_version(model, 2), Some(versions[1].clone()));
		assert!(Models::api_model_version(model, 3).is_none());
		assert!(Models::api_versions(model + 1).is_empty());

		let job = request(BOB, base, snapshot, 1, None);
		assert_eq!(
			Models::api_pending_finetune(job),
			Some(Finetune { requester: BOB, base, snapshot, hyper: hyper(), model: None })
		);
		assert!(Models::api_pending_finetune(job + 1).is_none());
	});
}
