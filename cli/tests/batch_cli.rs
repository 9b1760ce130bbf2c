//! Batch mode (`thuja authorize --requests FILE|-`) as a process: the same output from a file
//! and from standard input, with any number of threads and across chunk boundaries, equal to
//! single-request decisions; decisions written while standard input is still open; `--stats`
//! counts; and single-request `authorize` printing every error of many erroring policies with
//! its location.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/tinytodo");

fn example(file: &str) -> String {
    format!("{EXAMPLE}/{file}")
}

fn thuja() -> Command {
    Command::new(env!("CARGO_BIN_EXE_thuja"))
}

fn run(args: &[impl AsRef<std::ffi::OsStr>]) -> Output {
    thuja().args(args).output().expect("the thuja binary runs")
}

/// Runs thuja with `input` on its standard input.
fn run_with_stdin(args: &[impl AsRef<std::ffi::OsStr>], input: &[u8]) -> Output {
    let mut child = thuja()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the thuja binary runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // Written from a thread: the output is read while the input is written.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("thuja finishes");
    feeder.join().expect("the input was written");
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("thuja-batch-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path.display().to_string()
}

fn example_args<'a>(p: &'a str, s: &'a str, e: &'a str) -> Vec<&'a str> {
    vec!["authorize", "-p", p, "-s", s, "--entities", e]
}

/// `count` request lines over the example's users, actions and resources, with a line that is
/// not JSON and one that is not valid for the schema now and then.
fn example_requests(count: usize) -> Vec<String> {
    let users = ["alice", "bob", "casey", "nobody"];
    let actions = [
        "CreateList",
        "GetLists",
        "GetList",
        "UpdateList",
        "DeleteList",
        "CreateTask",
        "UpdateTask",
        "DeleteTask",
        "EditShare",
    ];
    (0..count)
        .map(|i| {
            if i % 97 == 13 {
                return "not json".to_string();
            }
            if i % 89 == 5 {
                return r#"{"principal": "TinyTodo::List::\"groceries\"", "action": "TinyTodo::Action::\"GetList\"", "resource": "TinyTodo::List::\"groceries\""}"#.to_string();
            }
            let user = users[i % users.len()];
            let action = actions[(i / 4) % actions.len()];
            let on_application = action == "CreateList" || action == "GetLists";
            let resource = if on_application {
                r#"{"type": "TinyTodo::Application", "id": "TinyTodo"}"#
            } else {
                r#"{"type": "TinyTodo::List", "id": "groceries"}"#
            };
            let ip = if i % 3 == 0 { "10.1.2.3" } else { "192.168.0.1" };
            let context = if on_application {
                "{}".to_string()
            } else {
                format!(r#"{{"ip": "{ip}"}}"#)
            };
            format!(
                r#"{{"principal": {{"type": "TinyTodo::User", "id": "{user}"}}, "action": "TinyTodo::Action::\"{action}\"", "resource": {resource}, "context": {context}}}"#
            )
        })
        .collect()
}

#[test]
fn file_and_stdin_agree_with_any_threads_across_chunks() {
    let dir = scratch("agree");
    // More lines than one chunk holds (8,192 with few threads), with CRLF line ends on some.
    let lines = example_requests(20_000);
    let mut input = String::new();
    for (i, line) in lines.iter().enumerate() {
        input.push_str(line);
        input.push_str(if i % 5 == 0 { "\r\n" } else { "\n" });
    }
    let requests = write(&dir, "requests.jsonl", &input);
    let (p, s, e) = (
        example("policies.cedar"),
        example("tinytodo.cedarschema"),
        example("entities.json"),
    );
    let with = |source: &str, threads: &str| -> Vec<String> {
        let mut args: Vec<String> = example_args(&p, &s, &e)
            .into_iter()
            .map(String::from)
            .collect();
        args.extend(["--requests", source, "--threads", threads].map(String::from));
        args
    };
    let from_file = run(&with(&requests, "1"));
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "{}",
        text(&from_file.stderr)
    );
    let out = text(&from_file.stdout);
    assert_eq!(out.lines().count(), lines.len());
    assert!(out.contains(r#""decision":"allow""#) && out.contains(r#""decision":"deny""#));
    assert!(
        out.contains(&format!(r#"{{"error":"{requests}:14: "#)),
        "line 14 is not JSON"
    );
    for threads in ["3", "8"] {
        let o = run(&with(&requests, threads));
        assert_eq!(text(&o.stdout), out, "{threads} threads");
    }
    // From standard input, the error lines name `<stdin>`; everything else is the same.
    let from_stdin = run_with_stdin(&with("-", "2"), input.as_bytes());
    assert_eq!(
        from_stdin.status.code(),
        Some(0),
        "{}",
        text(&from_stdin.stderr)
    );
    assert_eq!(text(&from_stdin.stdout), out.replace(&requests, "<stdin>"));
    // `--output` writes the same.
    let output = dir.join("out.jsonl").display().to_string();
    let mut args = with(&requests, "2");
    args.extend(["--output".to_string(), output.clone()]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&output).expect("output written"),
        out
    );
}

#[test]
fn batch_decisions_equal_single_requests() {
    let dir = scratch("single");
    let lines = example_requests(40);
    let (p, s, e) = (
        example("policies.cedar"),
        example("tinytodo.cedarschema"),
        example("entities.json"),
    );
    let mut args = example_args(&p, &s, &e);
    args.extend(["--requests", "-"]);
    let batch = run_with_stdin(&args, (lines.join("\n") + "\n").as_bytes());
    assert_eq!(batch.status.code(), Some(0), "{}", text(&batch.stderr));
    let out = text(&batch.stdout);
    let decisions: Vec<&str> = out.lines().collect();
    assert_eq!(decisions.len(), lines.len());
    let mut compared = 0;
    for (i, (line, decision)) in lines.iter().zip(&decisions).enumerate() {
        let request = write(&dir, &format!("request{i}.json"), line);
        let mut args = example_args(&p, &s, &e);
        args.extend(["--request-json", &request, "-v"]);
        let single = run(&args);
        let said = text(&single.stdout);
        match single.status.code() {
            Some(0) => assert!(
                decision.starts_with(r#"{"decision":"allow""#),
                "{i}: {decision}"
            ),
            Some(2) => assert!(
                decision.starts_with(r#"{"decision":"deny""#),
                "{i}: {decision}"
            ),
            _ => {
                assert!(
                    decision.starts_with(r#"{"error":"<stdin>:"#),
                    "{i}: {decision}"
                );
                continue;
            }
        }
        // The reasons `-v` lists are the batch line's reasons.
        let line: serde_json::Value = serde_json::from_str(decision).expect("a JSON line");
        let reasons: Vec<&str> = line["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .filter_map(|r| r.as_str())
            .collect();
        let listed: Vec<&str> = said.lines().filter_map(|l| l.strip_prefix("  ")).collect();
        let mut listed_sorted = listed.clone();
        listed_sorted.sort_unstable();
        assert_eq!(reasons, listed_sorted, "{i}: {said}");
        compared += 1;
    }
    assert!(compared >= 30, "{compared}");
}

/// Reads lines of `stdout` on a thread, so a test can wait for one with a time limit.
fn lines_of(stdout: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

#[test]
fn stdin_decisions_are_written_before_the_input_ends() {
    let (p, s, e) = (
        example("policies.cedar"),
        example("tinytodo.cedarschema"),
        example("entities.json"),
    );
    let mut args = example_args(&p, &s, &e);
    args.extend(["--requests", "-", "--stats"]);
    let mut child = thuja()
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the thuja binary runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let lines = lines_of(child.stdout.take().expect("stdout is piped"));
    let requests = [
        r#"{"principal": "TinyTodo::User::\"alice\"", "action": "TinyTodo::Action::\"UpdateTask\"", "resource": "TinyTodo::List::\"groceries\"", "context": {"ip": "10.1.2.3"}}"#,
        r#"{"principal": "TinyTodo::User::\"bob\"", "action": "TinyTodo::Action::\"GetList\"", "resource": "TinyTodo::List::\"groceries\"", "context": {}}"#,
    ];
    // One line, then wait for its decision with standard input still open; then a line sent
    // in two writes (the second after its first half had to be read on its own).
    let limit = Duration::from_secs(60);
    writeln!(stdin, "{}", requests[0]).expect("write a line");
    stdin.flush().expect("flush");
    let first = lines
        .recv_timeout(limit)
        .expect("a decision before the input ends");
    assert!(first.starts_with(r#"{"decision":"#), "{first}");
    let (start, end) = requests[1].split_at(20);
    write!(stdin, "{start}").expect("write half a line");
    stdin.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(100));
    writeln!(stdin, "{end}\nnot json").expect("write the rest");
    stdin.flush().expect("flush");
    let second = lines.recv_timeout(limit).expect("a second decision");
    assert!(second.starts_with(r#"{"decision":"#), "{second}");
    let third = lines.recv_timeout(limit).expect("an error line");
    assert!(third.starts_with(r#"{"error":"<stdin>:3: "#), "{third}");
    drop(stdin);
    let output = child.wait_with_output().expect("thuja ends with its input");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(lines.recv_timeout(limit).is_err(), "nothing more");
    let stats: serde_json::Value =
        serde_json::from_slice(&output.stderr).expect("one JSON line of statistics");
    assert_eq!(stats["requests"], 3, "{stats}");
    assert_eq!(stats["error"], 1, "{stats}");
}

#[test]
fn stats_count_decisions_errors_and_policy_errors() {
    let dir = scratch("stats");
    let policies = write(
        &dir,
        "policies.cedar",
        "permit(principal == User::\"a\", action, resource);\n\
         forbid(principal == User::\"b\", action, resource);\n\
         permit(principal, action, resource) when { context.x + 1 > 0 };\n",
    );
    let entities = write(&dir, "entities.json", "[]");
    let request = |user: &str, context: &str| {
        format!(
            r#"{{"principal": "User::\"{user}\"", "action": "Action::\"go\"", "resource": "R::\"r\"", "context": {context}}}"#
        )
    };
    let lines = [
        request("a", "{}"),          // allow, policy2 errs
        request("b", r#"{"x": 1}"#), // deny
        request("c", r#"{"x": 1}"#), // allow
        "{}".to_string(),            // not a request
        request("c", "{}"),          // deny, policy2 errs
        "\u{fffd}".to_string(),      // replaced below by bytes that are not UTF-8
    ];
    let mut input = lines.join("\n").into_bytes();
    let at = input.len() - "\u{fffd}".len();
    input.truncate(at);
    input.extend_from_slice(&[0xff, 0xfe, b'\n']);
    let requests = dir.join("requests.jsonl");
    std::fs::write(&requests, &input).expect("write requests");
    let requests = requests.display().to_string();
    let o = run(&[
        "authorize",
        "-p",
        &policies,
        "--entities",
        &entities,
        "--requests",
        &requests,
        "--stats",
        "--threads",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let out: Vec<&str> = out.lines().collect();
    assert_eq!(
        out[..3],
        [
            r#"{"decision":"allow","reasons":["policy0"],"errors":["policy2"]}"#,
            r#"{"decision":"deny","reasons":["policy1"],"errors":[]}"#,
            r#"{"decision":"allow","reasons":["policy2"],"errors":[]}"#,
        ]
    );
    assert!(
        out[3].starts_with(&format!(r#"{{"error":"{requests}:4: "#)),
        "{}",
        out[3]
    );
    assert_eq!(
        out[4],
        r#"{"decision":"deny","reasons":[],"errors":["policy2"]}"#
    );
    assert_eq!(
        out[5],
        format!(r#"{{"error":"{requests}:6: the line is not valid UTF-8"}}"#)
    );
    let stats: serde_json::Value =
        serde_json::from_slice(&o.stderr).expect("one JSON line of statistics");
    assert_eq!(stats["requests"], 6, "{stats}");
    assert_eq!(stats["allow"], 2, "{stats}");
    assert_eq!(stats["deny"], 2, "{stats}");
    assert_eq!(stats["error"], 2, "{stats}");
    assert_eq!(stats["policy_errors"], 2, "{stats}");
    assert_eq!(stats["threads"], 2, "{stats}");
    let (p50, p99, max) = (&stats["p50_ns"], &stats["p99_ns"], &stats["max_ns"]);
    assert!(
        p50.as_u64() > Some(0) && p50.as_u64() <= p99.as_u64() && p99.as_u64() <= max.as_u64(),
        "{stats}"
    );
    // An empty input: no lines, all counts zero.
    let empty = write(&dir, "empty.jsonl", "");
    let o = run(&[
        "authorize",
        "-p",
        &policies,
        "--entities",
        &entities,
        "--requests",
        &empty,
        "--stats",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let stats: serde_json::Value =
        serde_json::from_slice(&o.stderr).expect("one JSON line of statistics");
    assert_eq!(stats["requests"], 0, "{stats}");
    assert_eq!(stats["p99_ns"], 0, "{stats}");
}

/// The longest request line batch mode keeps (`MAX_CONTEXT_BYTES`).
const MAX_LINE_BYTES: u64 = 16 << 20;

/// A request line far longer than the process may hold (300 MiB, under a 256 MiB limit on its
/// address space), and one just past the limit, are each an error naming the line and its
/// length; the lines around them are decided, and the process ends normally: the long lines
/// are skipped, not held. The input is written from a generator, a piece at a time.
#[test]
fn enormous_lines_are_errors_and_the_batch_goes_on() {
    let (p, s, e) = (
        example("policies.cedar"),
        example("tinytodo.cedarschema"),
        example("entities.json"),
    );
    let mut args = example_args(&p, &s, &e);
    args.extend(["--requests", "-", "--stats", "--threads", "2"]);
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 262144; ulimit -t 120; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_thuja"))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the thuja binary runs");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let good = r#"{"principal": "TinyTodo::User::\"alice\"", "action": "TinyTodo::Action::\"GetList\"", "resource": "TinyTodo::List::\"groceries\"", "context": {}}"#;
    // A request whose context holds a string of `n` bytes, `total` bytes long in all.
    let start = r#"{"principal": "TinyTodo::User::\"alice\"", "action": "TinyTodo::Action::\"GetList\"", "resource": "TinyTodo::List::\"groceries\"", "context": {"s": ""#;
    let end = "\"}}";
    let long_line = |total: u64, stdin: &mut std::process::ChildStdin| {
        let piece = vec![b'a'; 1 << 20];
        stdin.write_all(start.as_bytes())?;
        let mut left = total - (start.len() + end.len()) as u64;
        while left > 0 {
            let n = left.min(piece.len() as u64) as usize;
            stdin.write_all(&piece[..n])?;
            left -= n as u64;
        }
        stdin.write_all(end.as_bytes())?;
        stdin.write_all(b"\n")
    };
    let big = 300u64 << 20;
    let feeder = std::thread::spawn(move || -> std::io::Result<()> {
        writeln!(stdin, "{good}")?;
        long_line(big, &mut stdin)?;
        writeln!(stdin, "{good}")?;
        long_line(MAX_LINE_BYTES + 1, &mut stdin)?;
        long_line(MAX_LINE_BYTES / 2, &mut stdin)?;
        // The last line, too long and not ended.
        write!(stdin, "{good}")?;
        stdin.write_all(&vec![b' '; MAX_LINE_BYTES as usize])
    });
    let output = child.wait_with_output().expect("thuja finishes");
    feeder
        .join()
        .expect("the feeder ends")
        .expect("the whole input was written");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    let out: Vec<&str> = out.lines().collect();
    let too_long = |line: usize, bytes: u64| {
        format!(
            r#"{{"error":"<stdin>:{line}: the request is {bytes} bytes long, more than the {MAX_LINE_BYTES} allowed (MAX_CONTEXT_BYTES)"}}"#
        )
    };
    assert_eq!(out.len(), 6, "{out:?}");
    assert!(out[0].starts_with(r#"{"decision":"#), "{}", out[0]);
    assert_eq!(out[1], too_long(2, big));
    assert_eq!(out[2], out[0]);
    assert_eq!(out[3], too_long(4, MAX_LINE_BYTES + 1));
    // Half the limit is read, and decided (the context is not valid for the schema).
    assert!(
        out[4].starts_with(r#"{"error":"<stdin>:5: "#) && !out[4].contains("bytes long"),
        "{}",
        out[4]
    );
    assert_eq!(out[5], too_long(6, good.len() as u64 + MAX_LINE_BYTES));
    let stats: serde_json::Value =
        serde_json::from_slice(&output.stderr).expect("one JSON line of statistics");
    assert_eq!(stats["requests"], 6, "{stats}");
    assert_eq!(stats["error"], 4, "{stats}");
}

#[test]
fn a_missing_requests_file_is_an_input_error() {
    let o = run(&[
        "authorize",
        "-p",
        &example("policies.cedar"),
        "--entities",
        &example("entities.json"),
        "--requests",
        "/nonexistent/requests.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("/nonexistent/requests.jsonl"));
    assert!(!text(&o.stderr).contains("panicked"));
}

/// `count` policies that all raise an error on any request, one a line or all on one line.
fn erroring_policies(count: usize, one_line: bool) -> String {
    let policy = r#"permit(principal, action, resource) when { 1 + "a" == 2 };"#;
    let separator = if one_line { " " } else { "\n" };
    (0..count)
        .map(|_| policy)
        .collect::<Vec<_>>()
        .join(separator)
        + "\n"
}

#[test]
fn authorize_prints_every_error_of_many_policies_with_its_location() {
    let dir = scratch("errors");
    let count = 2000;
    let entities = write(&dir, "entities.json", "[]");
    let policy_len = r#"permit(principal, action, resource) when { 1 + "a" == 2 };"#.len();
    // The error is at the `1`, column 44 of its policy.
    // One request (`User::"a"`, `Action::"a"`, `R::"a"`) against the policies `args` name.
    let authorize_one = |args: &[&str]| {
        let request = [
            "--entities",
            &entities,
            "-l",
            r#"User::"a""#,
            "-a",
            r#"Action::"a""#,
            "-r",
            r#"R::"a""#,
        ];
        let all: Vec<&str> = std::iter::once("authorize")
            .chain(args.iter().copied())
            .chain(request)
            .collect();
        run(&all)
    };
    for one_line in [false, true] {
        let name = if one_line {
            "line.cedar"
        } else {
            "lines.cedar"
        };
        let policies = write(&dir, name, &erroring_policies(count, one_line));
        let o = authorize_one(&["-p", &policies]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        let out = text(&o.stdout);
        let locations: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("  --> "))
            .collect();
        assert_eq!(locations.len(), count);
        let errors = out
            .lines()
            .filter(|l| l.starts_with("error while evaluating"))
            .count();
        assert_eq!(errors, count);
        for (i, location) in locations.iter().enumerate() {
            let expected = if one_line {
                format!("{policies}:1:{}", i * (policy_len + 1) + 44)
            } else {
                format!("{policies}:{}:44", i + 1)
            };
            assert_eq!(*location, expected);
        }
    }
    // Cedar's JSON policy format: a source (the policy as Cedar text) per policy.
    let policies = write(&dir, "lines.cedar", &erroring_policies(count, false));
    let json = run(&[
        "translate-policy",
        "--direction",
        "cedar-to-json",
        "-p",
        &policies,
    ]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let json_policies = write(&dir, "policies.json", &text(&json.stdout));
    let o = authorize_one(&["-p", &json_policies, "--policy-format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let located = out.lines().filter(|l| l.starts_with("  --> ")).count();
    assert_eq!(located, count);
    assert!(
        out.contains(&format!(
            "  --> {json_policies} (policy `policy1999` as Cedar text):"
        )),
        "{}",
        out.lines().last().unwrap_or_default()
    );
}
