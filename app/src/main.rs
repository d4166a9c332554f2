//! The widget's entry point: mounts [`lianxin_app::App`]. There is no panic hook: the
//! widget's release build stops at a panic at once, without formatting a message (see
//! `SMALL_STD` in xtask).

fn main() {
    // The widget runs: the "call 12345" fallback in index.html is no longer needed.
    if let Some(fallback) = web_sys::window().and_then(|window| window.document()).and_then(|document| document.get_element_by_id("boot-fallback")) {
        fallback.remove();
    }
    leptos::mount::mount_to_body(lianxin_app::App);
}
