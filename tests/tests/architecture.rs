//! `docs/architecture.md` stays true to the build: its `crate-edges` list is exactly the normal
//! (non-dev) dependencies between the workspace's crates, as `cargo metadata` reads them from the
//! manifests, and its code map names every crate. And, as `cargo tree` resolves the builds: the
//! command line without its `lsp` feature links neither tower-lsp nor tokio, without its
//! `platform` feature no DataFusion, and the shipped binary has no `test_support` in its
//! interpreter.
//!
//! These run `cargo` (the one running the tests, `$CARGO`), offline: they read manifests and the
//! lock file, and never build or fetch anything.

use std::collections::BTreeSet;
use std::process::Command;

use etr_tests::workspace_root;
use serde_json::Value;

/// A dependency of one workspace crate on another; `optional` when it is behind a cargo feature.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    optional: bool,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {}{}", self.from, self.to, if self.optional { " (optional)" } else { "" })
    }
}

/// Runs cargo with `args` in the workspace root and returns its stdout; panics with its stderr.
fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", cargo.to_string_lossy()));
    assert!(output.status.success(), "cargo {} failed:\n{}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("cargo prints UTF-8")
}

/// The workspace's crates, and the normal and build dependencies between them.
fn manifest_edges() -> (BTreeSet<String>, BTreeSet<Edge>) {
    let metadata: Value =
        serde_json::from_str(&cargo(&["metadata", "--format-version", "1", "--no-deps", "--offline"]))
            .expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("a package list");
    let crates: BTreeSet<String> =
        packages.iter().map(|p| p["name"].as_str().expect("a package name").to_owned()).collect();
    let mut edges = BTreeSet::new();
    for package in packages {
        let from = package["name"].as_str().expect("a package name");
        for dependency in package["dependencies"].as_array().expect("a dependency list") {
            // `name` is the package depended on, whatever the manifest renames it to.
            let to = dependency["name"].as_str().expect("a dependency name");
            let dev = dependency["kind"].as_str() == Some("dev");
            if crates.contains(to) && !dev {
                let optional = dependency["optional"].as_bool().unwrap_or(false);
                edges.insert(Edge { from: from.to_owned(), to: to.to_owned(), optional });
            }
        }
    }
    (crates, edges)
}

/// The lines of the fenced `crate-edges` block of `text`: `a -> b`, or `a -> b (optional ...)`.
fn documented_edges(text: &str) -> Result<BTreeSet<Edge>, String> {
    let mut lines = text.lines();
    if !lines.any(|line| line.trim() == "```crate-edges") {
        return Err("no ```crate-edges block".into());
    }
    let mut edges = BTreeSet::new();
    for line in lines.by_ref().take_while(|line| line.trim() != "```") {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (from, rest) = line.split_once(" -> ").ok_or_else(|| format!("not `crate -> dependency`: {line:?}"))?;
        let (to, note) = rest.split_once(' ').unwrap_or((rest, ""));
        let optional = note.starts_with("(optional");
        if !note.is_empty() && !optional {
            return Err(format!("only `(optional ...)` may follow a dependency: {line:?}"));
        }
        let edge = Edge { from: from.trim().to_owned(), to: to.to_owned(), optional };
        if !edges.insert(edge) {
            return Err(format!("listed twice: {line:?}"));
        }
    }
    Ok(edges)
}

/// The differences between the edges of the manifests and the documented ones, as a report.
fn differences(actual: &BTreeSet<Edge>, documented: &BTreeSet<Edge>) -> Vec<String> {
    let missing = actual.difference(documented).map(|e| format!("  in the manifests, not in the list: {e}"));
    let extra = documented.difference(actual).map(|e| format!("  in the list, not in the manifests: {e}"));
    missing.chain(extra).collect()
}

#[test]
fn the_documented_crate_edges_are_the_manifests() {
    let (crates, actual) = manifest_edges();
    // What a broken `cargo metadata` call, or a manifest change that lost every edge, would give.
    assert!(crates.len() >= 10 && actual.len() >= 20, "cargo metadata found {crates:?} and {actual:?}");
    let doc = std::fs::read_to_string(workspace_root().join("docs/architecture.md")).expect("docs/architecture.md");
    let documented = documented_edges(&doc).unwrap_or_else(|error| panic!("docs/architecture.md: {error}"));
    let problems = differences(&actual, &documented);
    assert!(
        problems.is_empty(),
        "docs/architecture.md's crate-edges list differs from the crates' Cargo.toml files (normal and build \
         dependencies between workspace crates):\n{}\nUpdate the list, or the manifests.",
        problems.join("\n")
    );
}

/// The crates the code map has a row for: the second cell of each table row (`| path | crate |
/// what it is |`), whose first word is the crate's name in backticks.
fn code_map_crates(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .filter(|line| line.starts_with('|'))
        .filter_map(|line| line.split('|').nth(2))
        .filter_map(|cell| cell.trim().strip_prefix('`')?.split('`').next().map(str::to_owned))
        .collect()
}

#[test]
fn every_crate_has_a_row_in_the_code_map() {
    let (crates, _) = manifest_edges();
    let doc = std::fs::read_to_string(workspace_root().join("docs/architecture.md")).expect("docs/architecture.md");
    let mapped = code_map_crates(&doc);
    let missing: Vec<&String> = crates.difference(&mapped).collect();
    assert!(missing.is_empty(), "crates without a row in the code map of docs/architecture.md: {missing:?}");
}

#[test]
fn the_edge_list_parser_tells_missing_extra_and_optional_edges() {
    let doc = "text\n```crate-edges\na -> b\na -> c (optional: feature x)\n\n```\nd -> e\n";
    let documented = documented_edges(doc).unwrap();
    let edge = |from: &str, to: &str, optional| Edge { from: from.into(), to: to.into(), optional };
    assert_eq!(documented, BTreeSet::from([edge("a", "b", false), edge("a", "c", true)]));
    let actual = BTreeSet::from([edge("a", "b", false), edge("a", "c", false), edge("b", "c", false)]);
    assert_eq!(
        differences(&actual, &documented),
        [
            "  in the manifests, not in the list: a -> c",
            "  in the manifests, not in the list: b -> c",
            "  in the list, not in the manifests: a -> c (optional)",
        ]
    );
    assert!(documented_edges("no block").is_err());
    assert!(documented_edges("```crate-edges\na -> b (note)\n```").is_err());
    assert!(documented_edges("```crate-edges\na b\n```").is_err());
}

/// The packages `etr-cli` links with `features` (`cargo tree` arguments), by name.
fn cli_dependencies(features: &[&str]) -> BTreeSet<String> {
    let mut args = vec!["tree", "--offline", "-p", "etr-cli", "-e", "normal,build", "--prefix", "none", "-f", "{p}"];
    args.extend_from_slice(features);
    cargo(&args).lines().filter_map(|line| line.split_whitespace().next()).map(str::to_owned).collect()
}

#[test]
fn the_cli_without_its_lsp_feature_links_no_language_server() {
    let server_side = ["etr-lsp", "tower-lsp-server", "tokio"];
    let full = cli_dependencies(&[]);
    // The control: with its default features the CLI does link them, so this test sees them.
    for name in server_side {
        assert!(full.contains(name), "etr-cli with default features should link {name}: {full:?}");
    }
    let lean = cli_dependencies(&["--no-default-features"]);
    assert!(lean.contains("etr-workspace") && lean.contains("etr-sema"), "{lean:?}");
    let linked: Vec<&str> = server_side.into_iter().filter(|name| lean.contains(*name)).collect();
    assert!(linked.is_empty(), "etr-cli --no-default-features still links {linked:?}");
}

#[test]
fn the_cli_without_its_platform_feature_links_no_sql_engine() {
    let full = cli_dependencies(&[]);
    // The control: `etr sql` is in the default build, DataFusion with it.
    assert!(full.contains("etr-sql") && full.contains("datafusion"), "{full:?}");
    let without_platform = cli_dependencies(&["--no-default-features", "--features", "lsp"]);
    assert!(without_platform.contains("etr-lsp"), "{without_platform:?}");
    let linked: Vec<&String> = without_platform.iter().filter(|name| name.starts_with("datafusion")).collect();
    assert!(linked.is_empty(), "etr-cli without `platform` still links {linked:?}");
}

/// The features `cargo tree` resolves for `etr-interp` in the build of `package` with `edges`.
fn interp_features(package: &str, edges: &str) -> Vec<String> {
    let tree = cargo(&["tree", "--offline", "-p", package, "-e", edges, "--prefix", "none", "-f", "{p} [{f}]"]);
    let lines: Vec<&str> = tree.lines().filter(|line| line.starts_with("etr-interp ")).collect();
    assert!(!lines.is_empty(), "no etr-interp in the tree of {package}:\n{tree}");
    lines
        .iter()
        .filter_map(|line| line.rsplit_once('[')?.1.split_once(']').map(|(features, _)| features.to_owned()))
        .collect()
}

#[test]
fn the_shipped_interpreter_has_no_test_support() {
    // The control: the JIT's tests enable it, and the tree shows it there.
    let in_tests = interp_features("etr-jit", "normal,build,dev");
    assert!(in_tests.iter().any(|f| f.contains("test-support")), "{in_tests:?}");
    let shipped = interp_features("etr-cli", "normal,build");
    assert!(shipped.iter().all(|f| !f.contains("test-support")), "etr-cli builds etr-interp with {shipped:?}");
}
