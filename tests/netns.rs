//! Real hosts on one machine: network namespaces joined by veth pairs, a server host running
//! `stream-doctor listen`, an "inside" host and an "outside" host, and an nftables rule in the
//! server's namespace dropping the outside's packets. `check` runs from both, and `compare`
//! names what only the difference shows. Every address lives in the namespaces made here
//! (10.77.x.x, and 203.0.113.x as the "public" one: a documentation range). A host may get
//! its own `/etc/hosts` and `/etc/resolv.conf` (`ip netns exec` mounts the files of
//! `/etc/netns/NAME/` over `/etc`), so names resolve differently on each, as they do on
//! machines in two networks.
//! Needs root, iproute2 and nftables: `--features netns` (scripts/test turns it on as root).
#![cfg(feature = "netns")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

const PORT: u16 = 8080;
const URL: &str = "ws://stream.test:8080/api/calls/1/audio";

fn run(args: &[&str]) -> Output {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Three hosts: `srv` (10.77.1.1 towards `inside`, 10.77.2.1 and 203.0.113.1 towards
/// `outside`), `inside` (10.77.1.2) and `outside` (10.77.2.2 and 203.0.113.2). Removed on drop.
struct Hosts {
    srv: String,
    inside: String,
    outside: String,
    server: Option<Child>,
}

impl Hosts {
    fn build() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let tag = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let hosts = Hosts {
            srv: format!("sd-srv-{tag}"),
            inside: format!("sd-in-{tag}"),
            outside: format!("sd-out-{tag}"),
            server: None,
        };
        for ns in [&hosts.srv, &hosts.inside, &hosts.outside] {
            run(&["ip", "netns", "add", ns]);
            run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        // Interface names are at most 15 bytes: short ones, unique inside each namespace.
        let n = NEXT.load(Ordering::SeqCst);
        let pid = std::process::id() % 10000;
        let (a, b) = (format!("sdi{pid}x{n}"), format!("sdo{pid}x{n}"));
        let link = |name: &str, peer: &str, far: &str| {
            run(&[
                "ip", "link", "add", name, "netns", &hosts.srv, "type", "veth", "peer", "name",
                peer, "netns", far,
            ]);
        };
        link(&a, "eth0", &hosts.inside);
        link(&b, "eth0", &hosts.outside);
        let addr = |ns: &str, dev: &str, cidr: &str| {
            run(&["ip", "-n", ns, "addr", "add", cidr, "dev", dev])
        };
        addr(&hosts.srv, &a, "10.77.1.1/24");
        addr(&hosts.srv, &b, "10.77.2.1/24");
        addr(&hosts.srv, &b, "203.0.113.1/24");
        addr(&hosts.inside, "eth0", "10.77.1.2/24");
        addr(&hosts.outside, "eth0", "10.77.2.2/24");
        addr(&hosts.outside, "eth0", "203.0.113.2/24");
        for (ns, dev) in [
            (&hosts.srv, a.as_str()),
            (&hosts.srv, b.as_str()),
            (&hosts.inside, "eth0"),
            (&hosts.outside, "eth0"),
        ] {
            run(&["ip", "-n", ns, "link", "set", dev, "up"]);
        }
        hosts
    }

    /// The firewall: the server drops the outside's packets from 10.77.2.0/24 to the port.
    fn firewall(&self) {
        let nft = |rule: &str| run(&["ip", "netns", "exec", &self.srv, "nft", rule]);
        nft("add table inet sd");
        nft("add chain inet sd input { type filter hook input priority 0; policy accept; }");
        nft(&format!(
            "add rule inet sd input ip saddr 10.77.2.0/24 tcp dport {PORT} drop"
        ));
    }

    /// `stream-doctor listen` on the server host, on every address, until the hosts go.
    fn serve(&mut self) {
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.srv,
                env!("CARGO_BIN_EXE_stream-doctor"),
            ])
            .args([
                "listen",
                "--bind",
                &format!("0.0.0.0:{PORT}"),
                "--public-without-token",
            ])
            .env_remove("PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(first.starts_with("listening on"), "{first}");
        // Keeps reading what the listener says, as a terminal would.
        std::thread::spawn(move || lines.for_each(drop));
        self.server = Some(child);
    }

    /// Host `ns` knows `stream.test` as `addr` from its own hosts file, and asks a name server
    /// at `silent` that never answers (the server host drops DNS): only the hosts file can
    /// answer, as on a machine whose DNS is down.
    fn name(&self, ns: &str, addr: &str, silent: &str) {
        let dir = std::path::Path::new("/etc/netns").join(ns);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("hosts"),
            format!("127.0.0.1 localhost\n{addr} stream.test\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("resolv.conf"),
            format!("nameserver {silent}\noptions timeout:1 attempts:1\n"),
        )
        .unwrap();
        let nft = |rule: &str| run(&["ip", "netns", "exec", &self.srv, "nft", rule]);
        let _ = Command::new("ip")
            .args(["netns", "exec", &self.srv, "nft", "add table inet dns"])
            .status();
        nft("add chain inet dns input { type filter hook input priority 0; policy accept; }");
        nft("add rule inet dns input udp dport 53 drop");
        nft("add rule inet dns input tcp dport 53 drop");
    }

    /// `check --format json` from host `ns`, which knows the server as `addr` when one is
    /// given (a `--resolve` pin), else by its own name resolution.
    fn check(&self, ns: &str, addr: Option<&str>, label: &str, out: &std::path::Path) -> Value {
        let pin = addr.map(|addr| format!("stream.test:{PORT}:{addr}"));
        let output = Command::new("ip")
            .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_stream-doctor")])
            .args(["check", URL, "--timeout", "2", "--observe", "0"])
            .args(pin.iter().flat_map(|pin| ["--resolve", pin.as_str()]))
            .args(["--vantage", label, "--format", "json", "--out"])
            .arg(out)
            .env_remove("STREAM_DOCTOR_HEADERS")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap();
        assert!(output.status.code().is_some_and(|c| c <= 1), "{output:?}");
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        for ns in [&self.srv, &self.inside, &self.outside] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
            let _ = std::fs::remove_dir_all(std::path::Path::new("/etc/netns").join(ns));
        }
    }
}

fn status(report: &Value, check: &str) -> String {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == check)
        .map(|c| c["status"].as_str().unwrap().to_string())
        .unwrap()
}

fn compare(here: &std::path::Path, there: &std::path::Path) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_stream-doctor"))
        .arg("compare")
        .args([here, there])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), json)
}

fn cause_ids(comparison: &Value) -> Vec<String> {
    comparison["diagnosis"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_firewall_between_the_outside_and_the_server_is_named() {
    let mut hosts = Hosts::build();
    hosts.firewall();
    hosts.serve();
    let dir = tempfile::tempdir().unwrap();
    let (here, there) = (
        dir.path().join("inside.json"),
        dir.path().join("outside.json"),
    );
    let inside = hosts.check(&hosts.inside, Some("10.77.1.1"), "inside", &here);
    let outside = hosts.check(&hosts.outside, Some("10.77.2.1"), "outside", &there);
    assert_eq!(status(&inside, "tcp"), "pass");
    assert_eq!(
        status(&inside, "provider"),
        "pass",
        "a real listener took the stream"
    );
    assert_eq!(status(&outside, "tcp"), "fail", "the firewall drops it");
    assert_eq!(outside["diagnosis"]["causes"][0]["id"], "tcp.timeout");
    assert_eq!(outside["vantage"]["label"], "outside");

    let (code, comparison) = compare(&here, &there);
    assert_eq!(code, Some(1));
    assert_eq!(cause_ids(&comparison), ["network.blocked_from_outside"]);
    assert_eq!(comparison["here"]["vantage"]["label"], "inside");
    assert_eq!(comparison["there"]["verdict"], "tcp.timeout");
    let differences = comparison["differences"].as_array().unwrap();
    assert_eq!(differences[0]["check"], "tcp");
    assert_eq!(differences[0]["here"]["status"], "pass");
    assert_eq!(differences[0]["there"]["status"], "fail");

    // Seen from the other side, it is the first machine's network that blocks.
    let (code, reversed) = compare(&there, &here);
    assert_eq!(code, Some(0), "a warning only");
    assert_eq!(cause_ids(&reversed), ["network.blocked_from_here"]);
}

fn dns(report: &Value) -> &Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "dns")
        .unwrap()
}

#[test]
fn a_name_that_is_private_inside_and_public_outside_is_split_horizon() {
    let mut hosts = Hosts::build();
    hosts.serve();
    // Each host has its own answer for the name, and a name server that never answers.
    hosts.name(&hosts.inside, "10.77.1.1", "10.77.1.1");
    hosts.name(&hosts.outside, "203.0.113.1", "10.77.2.1");
    let dir = tempfile::tempdir().unwrap();
    let (here, there) = (
        dir.path().join("inside.json"),
        dir.path().join("outside.json"),
    );
    let inside = hosts.check(&hosts.inside, None, "inside", &here);
    let outside = hosts.check(&hosts.outside, None, "outside", &there);
    // A private address is a warning, a public one passes: neither waits for the silent server.
    for (report, addr, verdict) in [
        (&inside, "10.77.1.1", "warn"),
        (&outside, "203.0.113.1", "pass"),
    ] {
        let dns = dns(report);
        assert_eq!(dns["status"], verdict, "{dns:#}");
        assert_eq!(dns["details"]["source"], "hosts file", "{dns:#}");
        assert_eq!(dns["details"]["addresses"][0]["address"], addr, "{dns:#}");
    }
    assert_eq!(status(&inside, "provider"), "pass");
    assert_eq!(status(&outside, "provider"), "pass");
    let (code, comparison) = compare(&here, &there);
    assert_eq!(code, Some(1));
    assert_eq!(cause_ids(&comparison), ["dns.split_horizon"]);
    let summary = comparison["diagnosis"]["causes"][0]["summary"]
        .as_str()
        .unwrap();
    assert!(
        summary.contains("10.77.1.1 (hosts file) (private)")
            && summary.contains("203.0.113.1 (hosts file) (public)"),
        "{summary}"
    );
}
