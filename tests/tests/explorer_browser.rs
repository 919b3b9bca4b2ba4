//! The Explorer in a real browser: `paxos-check explore` serves a flawed model, the report's link
//! to its counterexample is opened in headless Chromium, and the page must show what a learner
//! needs: the broken property named on the path it opened, the steps numbered and worded as in
//! the text report, the state in protocol words, the story, and the diagram. A screenshot goes to
//! `target/explorer-counterexample.png` for a person to look at.
//!
//! The browser is Debian's `chromium` (`sudo apt-get install -y chromium`), or any Chromium or
//! Chrome named by `PAXOS_BROWSER`. Without one the test says so and passes, unless
//! `PAXOS_BROWSER_TEST=required` (as CI sets it), where a missing browser fails it.

use paxos_e2e::{binary, run_with_input, workspace_root};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUN_LIMIT: Duration = Duration::from_secs(120);
const BROWSER_LIMIT: Duration = Duration::from_secs(120);
const FLAW: [&str; 2] = ["--flaw", "proposer-ignores-promises"];

/// The browser to drive, if one is installed.
fn browser() -> Option<PathBuf> {
    if let Some(named) = std::env::var_os("PAXOS_BROWSER") {
        return Some(PathBuf::from(named));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

/// A running `paxos-check explore single` on a free port, killed when dropped.
struct Explorer {
    child: Child,
    address: SocketAddr,
}

impl Explorer {
    fn start(model_flags: &[&str]) -> Explorer {
        let address = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let child = Command::new(binary("paxos-check"))
            .args(["explore", "single"])
            .args(model_flags)
            .args(["--addr", &address.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("paxos-check starts");
        let explorer = Explorer { child, address };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "the Explorer never answered");
            std::thread::sleep(Duration::from_millis(50));
        }
        explorer
    }

    /// Waits until the check behind the page is done, so that the page shows every verdict.
    fn wait_for_the_check(&self) {
        let deadline = Instant::now() + RUN_LIMIT;
        loop {
            let mut stream = TcpStream::connect(self.address).expect("connects");
            write!(stream, "GET /.status HTTP/1.0\r\n\r\n").expect("writes");
            let mut response = String::new();
            stream.read_to_string(&mut response).expect("reads");
            let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
            let status: Value = serde_json::from_str(body).expect("JSON");
            if status["done"] == true {
                return;
            }
            assert!(Instant::now() < deadline, "the check never finished");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the headless browser on `url` with `extra` arguments (`--dump-dom`, `--screenshot=`),
/// in a profile of its own, and returns what it printed.
fn headless(browser: &Path, url: &str, extra: &[String]) -> String {
    let profile = std::env::temp_dir().join(format!(
        "paxos-explorer-browser-{}-{}",
        std::process::id(),
        extra.len()
    ));
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1500,1300",
        // Lets the page's requests finish before the DOM or the screenshot is taken.
        "--virtual-time-budget=15000",
    ]
    .iter()
    .map(|arg| arg.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().cloned());
    args.push(url.to_owned());
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_with_input(browser, &arg_refs, "", BROWSER_LIMIT);
    let _ = std::fs::remove_dir_all(&profile);
    assert!(run.status.success(), "the browser failed: {}", run.stderr);
    run.stdout
}

/// The report's link to the counterexample of "immutability", and its steps.
fn reported_counterexample(address: SocketAddr) -> (String, Vec<String>) {
    let address = address.to_string();
    let mut args = vec!["check", "single", "--format", "json", "--addr", &address];
    args.extend(FLAW);
    let run = run_with_input(&binary("paxos-check"), &args, "", RUN_LIMIT);
    let report: Value = serde_json::from_str(&run.stdout).expect("a JSON report");
    let property = report["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .find(|property| property["name"] == "immutability")
        .expect("immutability is reported");
    let url = property["explorer_url"]
        .as_str()
        .expect("a link")
        .to_owned();
    let steps = property["trace"]
        .as_array()
        .expect("a trace")
        .iter()
        .map(|step| step["text"].as_str().expect("text").to_owned())
        .collect();
    (url, steps)
}

/// Text as the browser's serialised DOM writes it.
fn as_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The "Done when": a learner opens the reported link and reads the counterexample in
/// the protocol's words, with the broken property marked where it broke.
#[test]
fn a_reported_counterexample_reads_in_the_browser_as_in_the_report() {
    let Some(browser) = browser() else {
        let required = std::env::var("PAXOS_BROWSER_TEST").is_ok_and(|value| value == "required");
        assert!(
            !required,
            "PAXOS_BROWSER_TEST=required, but no browser: sudo apt-get install -y chromium"
        );
        eprintln!(
            "skipped: no Chromium to drive (install it with `sudo apt-get install -y chromium`, \
             or name one with PAXOS_BROWSER)"
        );
        return;
    };
    let explorer = Explorer::start(&FLAW);
    let (url, steps) = reported_counterexample(explorer.address);
    explorer.wait_for_the_check();

    let dom = headless(&browser, &url, &["--dump-dom".to_owned()]);

    for shown in [
        // The banner and the property list name the broken property on this path.
        "✘ This path breaks always \"immutability\" at <a href=\"#/steps/",
        "step 11</a>",
        "broken on this path at step 11",
        // The path: the decisive step and the broken one, marked.
        "★ A chosen at 1.p1 by a1, a2",
        "✘ immutability broken",
        // The state after the selected (last) step, in protocol words.
        "Step 11: p2 -&gt; a1  Accept(b=1.p2, B)",
        "a1: promised 1.p2, accepted (1.p2, B)",
        "p1: leads 1.p1 (promises from a1, a2)",
        // The story, naming the flaw and its rule.
        "What happened: how \"immutability\" broke",
        "step 6: A is chosen at ballot 1.p1 by a1, a2.",
        "Why: the flaw <code>proposer-ignores-promises</code> —",
        // How ballots read, said once on the page.
        "Ballots read round.proposer: 1.p2 is round 1 of proposer p2.",
        // Every verdict of the check behind the page.
        "example found",
        "<svg",
    ] {
        assert!(
            dom.contains(shown),
            "the page does not show {shown:?}:\n{dom}"
        );
    }
    for (index, step) in steps.iter().enumerate() {
        let numbered = format!(
            "<span class=\"number\">{}.</span><span><span class=\"action\">{}</span>",
            index + 1,
            as_html(step)
        );
        assert!(
            dom.contains(&numbered),
            "step {} is not {step:?}",
            index + 1
        );
    }
    // Code spans are rendered, not shown as backticks.
    let story = dom
        .split("<ol id=\"story\">")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .expect("the story's list");
    assert!(!story.contains('`'), "the story shows backticks: {story}");
    for dump in [
        "Searching",
        "Pre-init",
        "Ballot {",
        "Acceptor {",
        "SystemState",
    ] {
        assert!(!dom.contains(dump), "the page shows {dump:?}");
    }

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    std::fs::create_dir_all(&target).expect("the target directory");
    let screenshot = target.join("explorer-counterexample.png");
    let _ = std::fs::remove_file(&screenshot);
    headless(
        &browser,
        &url,
        &[format!("--screenshot={}", screenshot.display())],
    );
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", screenshot.display());
}
