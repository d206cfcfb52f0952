//! The one rule of docs/architecture.md, checked: no top-level module of `src/` uses another
//! that uses it back, directly or through others. Uses are read from the source text
//! (`crate::x` paths and `use crate::{x, ..}` groups), outside comments and test modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/probe/tls.rs` → `probe`.
fn module_of(src: &Path, file: &Path) -> String {
    let first = file.strip_prefix(src).unwrap().components().next().unwrap();
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The modules a file's code (not its comments or tests) names after `crate::`.
fn uses(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let code = match code.find("#[cfg(test)]\nmod tests") {
        Some(cut) => &code[..cut],
        None => &code,
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                found.extend(group.split(',').map(|part| identifier(part.trim())));
            }
            None => {
                found.insert(identifier(rest));
            }
        }
    }
    found.retain(|name| !name.is_empty());
    found
}

/// A path of uses from `from` back to itself, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "main" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let used: Vec<String> = uses(&text)
            .into_iter()
            .filter(|name| *name != module && modules.contains(name))
            .collect();
        graph.entry(module).or_default().extend(used);
    }
    assert!(graph.len() >= 10, "the source was not read: {graph:?}");
    assert!(
        graph["probe"].contains("net") && graph["stream"].contains("net"),
        "both sides stand on the network floor: {graph:?}"
    );
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|module| cycle_through(&graph, module))
        .map(|cycle| cycle.join(" -> "))
        .collect();
    assert!(
        cycles.is_empty(),
        "modules that use each other: {cycles:#?}"
    );
}

#[test]
fn uses_are_read_from_code_only() {
    let text = "use crate::{net::tls, stream};\n// crate::ui is a comment\nfn f() { crate::clock::now(); }\n#[cfg(test)]\nmod tests { use crate::report; }\n";
    let found: Vec<String> = uses(text).into_iter().collect();
    assert_eq!(found, ["clock", "net", "stream"]);
}
