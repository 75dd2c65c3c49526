//! `cargo xtask`: `regen [--check] [--vendor NAME]` and `lint [--vendor NAME]`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use xtask::document::{self, VENDORS, Vendor};
use xtask::{generate, lint};

#[derive(Parser)]
#[command(about = "clawkit build tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate generated/<vendor>-api from specs/<vendor>.
    Regen {
        /// Generate in memory, write nothing, fail naming each file that differs.
        #[arg(long)]
        check: bool,
        /// Only this vendor (default: all).
        #[arg(long)]
        vendor: Option<String>,
    },
    /// Check each spec: it parses, operationIds, success schemas, $refs, examples.
    Lint {
        /// Only this vendor (default: all).
        #[arg(long)]
        vendor: Option<String>,
    },
    /// Check the shape of crates/: no circle of imports, no source file over 500 lines (seed
    /// data and inline tests aside), and list the files outside the vendors' folders that name
    /// a vendor.
    Layout {
        /// Also print every arrow (file -> the files it imports).
        #[arg(long)]
        arrows: bool,
    },
    /// Write one vendor's document as the tools see it (overlay merged, OpenAPI 3.0), as JSON:
    /// the input for Schemathesis, Prism and other contract tools.
    Spec {
        /// The vendor.
        #[arg(long)]
        vendor: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn vendors(name: Option<&str>) -> Result<Vec<Vendor>> {
    match name {
        Some(name) => Ok(vec![Vendor::find(name)?]),
        None => Ok(VENDORS.to_vec()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = document::workspace_root();
    let result = match cli.command {
        Command::Regen { check, vendor } => {
            vendors(vendor.as_deref()).and_then(|v| regen(&root, &v, check))
        }
        Command::Lint { vendor } => vendors(vendor.as_deref()).and_then(|v| run_lint(&root, &v)),
        Command::Spec { vendor, out } => write_spec(&root, &vendor, out.as_deref()),
        Command::Layout { arrows } => layout(&root, arrows),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask layout`: prints each crate's circles, long files and files naming vendors;
/// fails on a circle or a long file.
fn layout(root: &Path, arrows: bool) -> Result<bool> {
    let reports = xtask::layout::check(root)?;
    let mut ok = true;
    for r in &reports {
        println!(
            "{}: {} files, {} arrows, {} circles, {} files over {} lines",
            r.krate.display(),
            r.files,
            r.arrows,
            r.circles.len(),
            r.oversize.len(),
            xtask::layout::MAX_LINES
        );
        for circle in &r.circles {
            ok = false;
            let files: Vec<String> = circle.iter().map(|f| f.display().to_string()).collect();
            println!("  circle: {}", files.join(" <-> "));
            for file in circle {
                for target in r.graph.get(file).into_iter().flatten() {
                    if circle.contains(target) {
                        println!("    {} -> {}", file.display(), target.display());
                    }
                }
            }
        }
        for (file, lines) in &r.oversize {
            ok = false;
            println!("  {lines} lines: {}", file.display());
        }
        let naming: Vec<String> = r
            .naming_vendors
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        println!(
            "  files outside the vendors' folders that name a vendor: {}",
            if naming.is_empty() {
                "none".to_string()
            } else {
                naming.join(", ")
            }
        );
        if arrows {
            for (file, targets) in &r.graph {
                for target in targets {
                    println!("  {} -> {}", file.display(), target.display());
                }
            }
        }
    }
    Ok(ok)
}

/// Files under `dir` (relative to `root`), as root-relative paths.
fn existing_files(root: &Path, dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.insert(rel.to_path_buf());
            }
        }
    }
    out
}

fn regen(root: &Path, vendors: &[Vendor], check: bool) -> Result<bool> {
    let started = Instant::now();
    let mut differing = Vec::new();
    let mut failed = false;
    for &vendor in vendors {
        let one = Instant::now();
        let prepared = document::load(root, vendor)?;
        let output = match generate::generate(&prepared) {
            Ok(output) => output,
            Err(e) => {
                eprintln!("error: {e:#}");
                failed = true;
                continue;
            }
        };
        for rewrite in &output.rewrites {
            println!("{rewrite}");
        }
        let mut stale = existing_files(root, &vendor.crate_dir());
        for (path, content) in &output.files {
            stale.remove(path);
            let full = root.join(path);
            let current = std::fs::read_to_string(&full).ok();
            if current.as_deref() == Some(content.as_str()) {
                continue;
            }
            if check {
                let why = if current.is_none() {
                    "missing"
                } else {
                    "differs"
                };
                differing.push(format!("{} ({why})", path.display()));
            } else {
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&full, content)
                    .with_context(|| format!("writing {}", full.display()))?;
                println!("wrote {}", path.display());
            }
        }
        for path in stale {
            if check {
                differing.push(format!("{} (not generated; remove it)", path.display()));
            } else {
                std::fs::remove_file(root.join(&path))?;
                println!("removed {}", path.display());
            }
        }
        println!(
            "{}: {} files in {} ms",
            vendor.name,
            output.files.len(),
            one.elapsed().as_millis()
        );
    }
    println!(
        "regen{} of {} vendor(s) took {} ms",
        if check { " --check" } else { "" },
        vendors.len(),
        started.elapsed().as_millis()
    );
    if !differing.is_empty() {
        eprintln!("generated code is out of date with specs/ (run `cargo xtask regen`):");
        for d in &differing {
            eprintln!("  {d}");
        }
        return Ok(false);
    }
    Ok(!failed)
}

fn run_lint(root: &Path, vendors: &[Vendor]) -> Result<bool> {
    let mut clean = true;
    for &vendor in vendors {
        let prepared = document::load(root, vendor)?;
        let problems = lint::lint(&prepared);
        if problems.is_empty() {
            println!("{}: ok", vendor.spec);
        }
        for problem in problems {
            clean = false;
            eprintln!("{problem}");
        }
    }
    Ok(clean)
}

fn write_spec(root: &Path, vendor: &str, out: Option<&Path>) -> Result<bool> {
    let prepared = document::load(root, Vendor::find(vendor)?)?;
    let text = serde_json::to_string_pretty(&prepared.document)? + "\n";
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(true)
}
