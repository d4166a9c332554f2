//! The widget's entry point: installs the panic hook and mounts [`lianxin_app::App`].

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(lianxin_app::App);
}
