//! The one rule of docs/architecture.md, checked: a top-level module of `src/` uses only
//! modules of its own floor or the floors below it, in the order the document's picture draws
//! them; every module has a floor; and no module uses another that uses it back, directly or
//! through others. Uses are read from the source text (`crate::x` paths and
//! `use crate::{x, ..}` groups), outside comments and test modules.
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

/// Which module uses which, among the library's top-level modules.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
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
    graph
}

/// The floors of docs/architecture.md's picture, top first: each line of the `text` block
/// names a floor, then its modules (a trailing `/` marks a folder).
fn floors(doc: &str) -> Vec<(String, Vec<String>)> {
    let block = doc
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the picture");
    block
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let floor = words.next()?.to_string();
            let modules = words.map(|w| w.trim_end_matches('/').to_string()).collect();
            Some((floor, modules))
        })
        .collect()
}

/// Every use that climbs: `module (floor) -> used (higher floor)`.
fn upward_uses(
    graph: &BTreeMap<String, BTreeSet<String>>,
    floors: &[(String, Vec<String>)],
) -> Vec<String> {
    let height = |module: &str| {
        floors
            .iter()
            .position(|(_, modules)| modules.iter().any(|m| m == module))
            .map(|i| floors.len() - i)
    };
    let mut climbs = Vec::new();
    for (module, used) in graph {
        for other in used {
            if let (Some(from), Some(to)) = (height(module), height(other))
                && to > from
            {
                climbs.push(format!("{module} (floor {from}) uses {other} (floor {to})"));
            }
        }
    }
    climbs
}

#[test]
fn every_module_uses_only_its_floor_and_the_floors_below() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .unwrap();
    let floors = floors(&doc);
    assert!(floors.len() >= 10, "the picture was not read: {floors:?}");
    let graph = graph();
    let placed: BTreeSet<&String> = floors.iter().flat_map(|(_, m)| m).collect();
    let unplaced: Vec<&String> = graph.keys().filter(|m| !placed.contains(m)).collect();
    assert!(
        unplaced.is_empty(),
        "modules the picture does not place: {unplaced:?}"
    );
    let climbs = upward_uses(&graph, &floors);
    assert!(climbs.is_empty(), "uses that point up a floor: {climbs:#?}");
}

#[test]
fn a_use_of_a_higher_floor_is_caught() {
    let floors = floors("```text\n top   ui/\n mid   session\n low   records/\n```\n");
    let mut graph = BTreeMap::new();
    graph.insert("ui".to_string(), BTreeSet::from(["records".to_string()]));
    graph.insert(
        "records".to_string(),
        BTreeSet::from(["session".to_string()]),
    );
    assert_eq!(
        upward_uses(&graph, &floors),
        ["records (floor 1) uses session (floor 2)"]
    );
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    let graph = graph();
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
