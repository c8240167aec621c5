//! Generates the Kotlin and Swift bindings from the compiled library (`uniffi/generate.sh`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
