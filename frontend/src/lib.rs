//! The browser entry point: compiled to WASM, it hydrates the HTML the server
//! rendered, making the same [`app::App`] interactive.

/// Called by the hydration script in the page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
