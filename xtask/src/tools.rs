//! Installs the tools the build and the tests need, skipping each one already present at
//! the right version: the wasm32 target, Trunk, the wasm-bindgen CLI at exactly the version
//! of the `wasm-bindgen` crate in Cargo.lock, wasm-opt from npm's `binaryen`, and Debian's
//! Chromium with its ChromeDriver.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, status};

/// Trunk 0.22 needs a newer rustc than these machines have.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen (108) silently breaks the module; npm's 132 works.
const BINARYEN_VERSION: &str = "132.0.0";
/// The accessibility checker the browser tests run on every screen.
const AXE_VERSION: &str = "4.14.1";
/// The fuzzing driver.
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// The S3 emulator the object-storage tests use (PyPI's moto, run as a server).
const MOTO_VERSION: &str = "5.2.5";
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

fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin")
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
        if line.trim() == format!("name = \"{crate_name}\"") {
            if let Some(version) = lines.next().and_then(|line| line.trim().strip_prefix("version = ")) {
                return Ok(version.trim_matches('"').to_owned());
            }
        }
    }
    Err(format!("{crate_name} is not in Cargo.lock"))
}

/// Installs and returns the build tools.
pub fn ensure_build_tools(root: &Path) -> Result<BuildTools> {
    let installed_targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed_targets.lines().any(|line| line.trim() == "wasm32-unknown-unknown") {
        status(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    // The widget's standard library is rebuilt from source for size (see `SMALL_STD`).
    let installed_components = output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    if !installed_components.lines().any(|line| line.trim().starts_with("rust-src")) {
        status(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }

    let bin = cargo_bin();
    let trunk = bin.join("trunk");
    if !output(&trunk, &["--version"]).is_some_and(|version| version.contains(TRUNK_VERSION)) {
        eprintln!("xtask: installing Trunk {TRUNK_VERSION} (compiles for 10–25 minutes on 2 cores, once)");
        status(crate::cargo().args(["install", "--locked", "trunk", "--version", TRUNK_VERSION]))?;
    }

    let bindgen_version = locked_version(root, "wasm-bindgen")?;
    let trunk_toml = std::fs::read_to_string(root.join("Trunk.toml")).unwrap_or_default();
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{bindgen_version}\"")) {
        return Err(format!("Trunk.toml must say wasm_bindgen = \"{bindgen_version}\", the version in Cargo.lock"));
    }
    if !output(bin.join("wasm-bindgen"), &["--version"]).is_some_and(|version| version.split_whitespace().nth(1) == Some(bindgen_version.as_str())) {
        eprintln!("xtask: installing wasm-bindgen-cli {bindgen_version} (about 10 minutes, once)");
        // Not --locked: its lock file pins a webpki-roots release the registry mirror lacks.
        status(crate::cargo().args(["install", "wasm-bindgen-cli", "--version", &bindgen_version]))?;
    }

    let tools_dir = target_dir(root).join("xtask-tools");
    let wasm_opt_dir = tools_dir.join("node_modules").join(".bin");
    let major = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    if !output(wasm_opt_dir.join("wasm-opt"), &["--version"]).is_some_and(|version| version.contains(&format!("version {major}"))) {
        std::fs::create_dir_all(&tools_dir).map_err(|error| format!("creating {}: {error}", tools_dir.display()))?;
        status(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--prefix"]).arg(&tools_dir).arg(format!("binaryen@{BINARYEN_VERSION}")))?;
    }
    Ok(BuildTools { trunk, wasm_opt_dir, cargo_bin: bin })
}

/// Installs axe-core from npm (for the browser tests) and returns the path of `axe.min.js`.
pub fn ensure_axe(root: &Path) -> Result<PathBuf> {
    let tools_dir = target_dir(root).join("xtask-tools");
    let package = tools_dir.join("node_modules").join("axe-core");
    let installed = std::fs::read_to_string(package.join("package.json")).unwrap_or_default();
    if !installed.contains(&format!("\"version\": \"{AXE_VERSION}\"")) {
        std::fs::create_dir_all(&tools_dir).map_err(|error| format!("creating {}: {error}", tools_dir.display()))?;
        status(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--prefix"]).arg(&tools_dir).arg(format!("axe-core@{AXE_VERSION}")))?;
    }
    Ok(package.join("axe.min.js"))
}

/// Runs apt-get (through sudo when not root).
fn apt(args: &[&str]) -> Result {
    let root_user = output("id", &["-u"]).is_some_and(|uid| uid.trim() == "0");
    let mut command = if root_user {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    };
    command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
    status(&mut command)
}

/// Installs Debian's brotli and gzip command-line tools when absent (the widget's files are
/// precompressed at build time).
pub fn ensure_compressors() -> Result {
    if output("brotli", &["--version"]).is_some() && output("gzip", &["--version"]).is_some() {
        return Ok(());
    }
    apt(&["update"])?;
    apt(&["install", "-y", "brotli", "gzip"])
}

/// Installs Debian's Chromium and ChromeDriver when absent, with Chinese and emoji fonts
/// so screenshots show what a phone shows.
pub fn ensure_browser() -> Result {
    let fonts = output("fc-list", &[":lang=zh"]).is_some_and(|list| !list.trim().is_empty())
        && output("fc-list", &[":charset=1f6a7"]).is_some_and(|list| !list.trim().is_empty());
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() && fonts {
        return Ok(());
    }
    eprintln!("xtask: installing chromium, chromium-driver and fonts from Debian");
    apt(&["update"])?;
    apt(&["install", "-y", "chromium", "chromium-driver", "fonts-wqy-microhei", "fonts-noto-color-emoji"])
}

/// Installs the S3 emulator (moto's server, from PyPI, in its own virtualenv under the
/// target dir) and returns the path of its `moto_server` program.
pub fn ensure_s3_emulator(root: &Path) -> Result<PathBuf> {
    let venv = target_dir(root).join("xtask-tools").join("moto-venv");
    let server = venv.join("bin").join("moto_server");
    let pip = venv.join("bin").join("pip");
    let installed = output(&pip, &["show", "moto"]).is_some_and(|info| info.lines().any(|line| line.trim() == format!("Version: {MOTO_VERSION}")));
    if !(installed && server.exists()) {
        eprintln!("xtask: installing the S3 emulator moto {MOTO_VERSION} from PyPI (about a minute, once)");
        status(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        status(Command::new(&pip).args(["install", "--quiet", &format!("moto[server]=={MOTO_VERSION}")]))?;
    }
    Ok(server)
}

/// Installs cargo-fuzz and returns its path.
pub fn ensure_cargo_fuzz() -> Result<PathBuf> {
    let program = cargo_bin().join("cargo-fuzz");
    if !output(&program, &["--version"]).is_some_and(|version| version.contains(CARGO_FUZZ_VERSION)) {
        eprintln!("xtask: installing cargo-fuzz {CARGO_FUZZ_VERSION} (a few minutes, once)");
        status(crate::cargo().args(["install", "--locked", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION]))?;
    }
    Ok(program)
}
