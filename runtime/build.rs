fn main() {
	#[cfg(feature = "std")]
	{
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
		// The same runtime with `spec_version` one higher, for the runtime-upgrade test: a real
		// upgrade to enact through governance (`WASM_BINARY_NEXT`, and the file
		// `wbuild/openledger-runtime/openledger_runtime_next.compact.compressed.wasm`).
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.enable_feature("next-spec-version")
			.set_file_name("openledger_runtime_next")
			.build();
	}
}
