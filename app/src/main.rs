//! The widget's entry point: installs the panic hook and mounts [`lianxin_app::App`].

fn main() {
    console_error_panic_hook::set_once();
    // The widget runs: the "call 12345" fallback in index.html is no longer needed.
    if let Some(fallback) = web_sys::window().and_then(|window| window.document()).and_then(|document| document.get_element_by_id("boot-fallback")) {
        fallback.remove();
    }
    leptos::mount::mount_to_body(lianxin_app::App);
}
