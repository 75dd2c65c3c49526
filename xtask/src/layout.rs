//! `cargo xtask layout`: the shape rules of `crates/`, checked from the code.
//!
//! - **No circle of imports.** Every `use` and every `crate::`/`super::`/`self::` path of a
//!   crate's `src/` is resolved to the file of the module it names (the longest module path with
//!   a file); a set of files that reach each other through those arrows is a circle. Test modules
//!   (`#[cfg(test)]`, `mod tests`) are left out. A name is counted where it is imported from, as
//!   written: importing `super::Thing` from a `mod.rs` that only re-exports it is an arrow to the
//!   `mod.rs`.
//! - **Files of about 500 lines at most**, counted without their inline test modules; seed data
//!   (a file whose first line is `//! Seed data`) may be longer.
//! - **The vendors are named in one place per crate**: the files outside a vendor's folder (or
//!   file) whose code names a vendor are listed, so that a new name outside the registries shows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use syn::visit::Visit;

/// The most lines a source file may have, its inline tests aside.
pub const MAX_LINES: usize = 500;

/// The vendors' module names (folders and files), as the crates spell them.
pub const VENDOR_MODULES: &[&str] = &["coreclaw", "bazhuayu", "devops", "fulfillment", "botswin"];

/// What `layout` found in one crate.
#[derive(Debug, Default)]
pub struct Report {
    /// The crate's folder, e.g. `crates/clawkit`.
    pub krate: PathBuf,
    /// Source files read (tests left out).
    pub files: usize,
    /// Arrows between files.
    pub arrows: usize,
    /// Each circle: its files, sorted.
    pub circles: Vec<Vec<PathBuf>>,
    /// Files over [`MAX_LINES`], with their lines.
    pub oversize: Vec<(PathBuf, usize)>,
    /// Files outside a vendor's folder whose code names a vendor.
    pub naming_vendors: Vec<PathBuf>,
    /// The arrows, for `--arrows`: file -> files it imports.
    pub graph: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
}

/// One source file of a crate: its module path and what it refers to.
#[derive(Debug)]
struct Source {
    module: Vec<String>,
    /// Each path with the inline modules it is written in.
    paths: Vec<(Vec<String>, Vec<String>)>,
}

/// Checks every crate under `root/crates`.
pub fn check(root: &Path) -> Result<Vec<Report>> {
    let mut reports = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .context("reading crates/")?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    crates.sort();
    for krate in crates {
        reports.push(check_crate(root, &krate)?);
    }
    Ok(reports)
}

fn check_crate(root: &Path, krate: &Path) -> Result<Report> {
    let src = krate.join("src");
    let mut sources: BTreeMap<PathBuf, Source> = BTreeMap::new();
    let mut modules: BTreeMap<Vec<String>, PathBuf> = BTreeMap::new();
    let mut oversize = Vec::new();
    let mut naming_vendors = Vec::new();
    let (lib, main) = (src.join("lib.rs"), src.join("main.rs"));
    if lib.is_file() {
        walk(&lib, Vec::new(), &mut sources, &mut modules)?;
        if main.is_file() {
            // A binary beside the library: its own crate, reaching the library by its name.
            let mut bin = BTreeMap::new();
            walk(&main, vec!["<bin>".into()], &mut sources, &mut bin)?;
        }
    } else if main.is_file() {
        walk(&main, Vec::new(), &mut sources, &mut modules)?;
    }
    for file in sources.keys() {
        let text = std::fs::read_to_string(file)?;
        let ast = syn::parse_file(&text).with_context(|| format!("parsing {}", file.display()))?;
        let lines = text.lines().count() - test_lines(&text);
        if lines > MAX_LINES && !text.starts_with("//! Seed data") {
            oversize.push((rel(root, file), lines));
        }
        if !in_vendor_folder(&src, file) && names_a_vendor(&ast) {
            naming_vendors.push(rel(root, file));
        }
    }
    let mut graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (file, source) in &sources {
        let targets = graph.entry(rel(root, file)).or_default();
        for (inline, path) in &source.paths {
            let mut here = source.module.clone();
            here.extend(inline.iter().cloned());
            // A path may start with a child module of the file's own (`use error::ApiError;`).
            let child = path.first().map(|first| {
                let mut m = source.module.clone();
                m.push(first.clone());
                m
            });
            let absolute = match child {
                Some(child) if inline.is_empty() && modules.contains_key(&child) => {
                    let mut whole = source.module.clone();
                    whole.extend(path.iter().cloned());
                    Some(whole)
                }
                _ => absolute(&here, path),
            };
            let Some(absolute) = absolute else {
                continue;
            };
            if let Some(target) = (1..=absolute.len())
                .rev()
                .find_map(|n| modules.get(&absolute[..n]))
                .or_else(|| modules.get(&Vec::new()))
                && target != file
            {
                targets.insert(rel(root, target));
            }
        }
    }
    let arrows = graph.values().map(BTreeSet::len).sum();
    Ok(Report {
        krate: rel(root, krate),
        files: sources.len(),
        arrows,
        circles: circles(&graph),
        oversize,
        naming_vendors,
        graph,
    })
}

fn rel(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Reads `file` as module `module` and, through its `mod x;` items, every file below it.
fn walk(
    file: &Path,
    module: Vec<String>,
    sources: &mut BTreeMap<PathBuf, Source>,
    modules: &mut BTreeMap<Vec<String>, PathBuf>,
) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let ast = syn::parse_file(&text).with_context(|| format!("parsing {}", file.display()))?;
    modules.insert(module.clone(), file.to_path_buf());
    let mut paths = Paths::default();
    for item in &ast.items {
        if is_test(item) {
            continue;
        }
        if let syn::Item::Mod(m) = item
            && m.content.is_none()
        {
            let name = m.ident.to_string();
            let dir = match file.file_name().and_then(|n| n.to_str()) {
                Some("mod.rs" | "lib.rs" | "main.rs") => file.parent().map(Path::to_path_buf),
                _ => Some(file.with_extension("")),
            }
            .unwrap_or_default();
            let child = [
                dir.join(format!("{name}.rs")),
                dir.join(&name).join("mod.rs"),
            ]
            .into_iter()
            .find(|p| p.is_file());
            if let Some(child) = child {
                let mut sub = module.clone();
                sub.push(name);
                walk(&child, sub, sources, modules)?;
            }
            continue;
        }
        paths.visit_item(item);
    }
    sources.insert(
        file.to_path_buf(),
        Source {
            module,
            paths: paths.0,
        },
    );
    Ok(())
}

/// Whether an item is a test module or only compiled for tests.
fn is_test(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Mod(m) => {
            if m.ident == "tests" || m.ident == "testing" {
                return true;
            }
            &m.attrs
        }
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Use(u) => &u.attrs,
        syn::Item::Impl(i) => &i.attrs,
        _ => return false,
    };
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().contains("test"))
    })
}

/// Lines of the inline test modules of a file: from a top-level `#[cfg(test)]` before a `mod
/// ... {` to the `}` that closes it at the start of a line (as rustfmt writes them).
fn test_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let mut count = 0;
    let mut i = 0;
    while i < lines.len() {
        let opens = lines[i] == "#[cfg(test)]"
            && lines
                .get(i + 1)
                .is_some_and(|l| l.starts_with("mod ") && l.ends_with('{'));
        if opens {
            let end = (i + 2..lines.len()).find(|&j| lines[j] == "}");
            if let Some(end) = end {
                count += end - i + 1;
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    count
}

/// Every path a file's items refer to, `use` trees flattened, each with the inline modules it is
/// written in (a path in `mod embedded { .. }` is relative to `embedded`).
#[derive(Default)]
struct Paths(Vec<(Vec<String>, Vec<String>)>, Vec<String>);

impl Paths {
    fn push(&mut self, path: Vec<String>) {
        self.0.push((self.1.clone(), path));
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        flatten(&item.tree, Vec::new(), &mut paths);
        for path in paths {
            self.push(path);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_test(&syn::Item::Mod(item.clone())) {
            self.1.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.1.pop();
        }
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(in crate::x)` says who may see an item, not what the file uses.
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        // Paths from the crate or the module, and those through a child module (kept only
        // when their first segment is one; see `check_crate`).
        if segments.len() >= 2 {
            self.push(segments);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        // `crate::x::y!` and paths inside macro arguments, read as tokens.
        let text = mac.tokens.to_string();
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
            if word.starts_with("crate::") || word.starts_with("super::") {
                let segments: Vec<String> = word
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                if segments.len() >= 2 {
                    self.push(segments);
                }
            }
        }
        syn::visit::visit_macro(self, mac);
    }
}

fn flatten(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut next = prefix;
            next.push(p.ident.to_string());
            flatten(&p.tree, next, out);
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix;
            if n.ident != "self" {
                path.push(n.ident.to_string());
            }
            out.push(path);
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix;
            path.push(r.ident.to_string());
            out.push(path);
        }
        syn::UseTree::Glob(_) => out.push(prefix),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                flatten(item, prefix.clone(), out);
            }
        }
    }
}

/// The crate-absolute module path of `path` written in module `module`; `None` for a path into
/// another crate.
fn absolute(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut out: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("super" | "self") => module.to_vec(),
        _ => return None,
    };
    let mut rest = if path.first().map(String::as_str) == Some("crate") {
        &path[1..]
    } else {
        path
    };
    while let Some(first) = rest.first() {
        match first.as_str() {
            "super" => {
                out.pop()?;
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    out.extend(rest.iter().cloned());
    Some(out)
}

/// Whether `file` is inside a vendor's folder of `src` (or is a vendor's file).
fn in_vendor_folder(src: &Path, file: &Path) -> bool {
    let Ok(inner) = file.strip_prefix(src) else {
        return false;
    };
    inner.components().next().is_some_and(|first| {
        let name = first.as_os_str().to_string_lossy();
        let stem = name.strip_suffix(".rs").unwrap_or(&name);
        VENDOR_MODULES.contains(&stem)
    })
}

/// Whether a file's code (not its comments) names a vendor: an identifier or a string with a
/// vendor's name in it.
fn names_a_vendor(ast: &syn::File) -> bool {
    struct Names(bool);
    impl<'ast> Visit<'ast> for Names {
        fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
            self.0 |= named(&ident.to_string());
        }
        fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
            self.0 |= named(&lit.value());
        }
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            self.0 |= named(&mac.tokens.to_string());
            syn::visit::visit_macro(self, mac);
        }
        fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}
        fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
            if !is_test(&syn::Item::Mod(item.clone())) {
                syn::visit::visit_item_mod(self, item);
            }
        }
    }
    fn named(text: &str) -> bool {
        let lower = text.to_lowercase();
        VENDOR_MODULES.iter().any(|v| lower.contains(v))
    }
    let mut names = Names(false);
    for item in &ast.items {
        if !is_test(item) {
            names.visit_item(item);
        }
    }
    names.0
}

/// The circles of a graph: its strongly connected components of more than one file (Tarjan).
fn circles(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct Tarjan<'g> {
        graph: &'g BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'g PathBuf, usize>,
        low: BTreeMap<&'g PathBuf, usize>,
        stack: Vec<&'g PathBuf>,
        on_stack: BTreeSet<&'g PathBuf>,
        next: usize,
        out: Vec<Vec<PathBuf>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g PathBuf) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.graph.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out.sort();
    t.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn paths_resolve_against_the_module() {
        let module = s(&["devops", "state"]);
        assert_eq!(
            absolute(&module, &s(&["super", "clock", "iso"])),
            Some(s(&["devops", "clock", "iso"]))
        );
        assert_eq!(
            absolute(&module, &s(&["crate", "kit", "ids"])),
            Some(s(&["kit", "ids"]))
        );
        assert_eq!(
            absolute(&module, &s(&["super", "super", "Vendor"])),
            Some(s(&["Vendor"]))
        );
        assert_eq!(absolute(&module, &s(&["serde", "Serialize"])), None);
    }

    #[test]
    fn circles_are_the_components_that_reach_each_other() {
        let p = |n: &str| PathBuf::from(n);
        let graph = BTreeMap::from([
            (p("a"), BTreeSet::from([p("b")])),
            (p("b"), BTreeSet::from([p("c")])),
            (p("c"), BTreeSet::from([p("a")])),
            (p("d"), BTreeSet::from([p("a")])),
        ]);
        assert_eq!(circles(&graph), vec![vec![p("a"), p("b"), p("c")]]);
    }
}
