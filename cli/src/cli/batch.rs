//! `thuja authorize --requests FILE.jsonl` (or `--requests -`, standard input): decide many
//! requests against one policy set and entity store, loaded once, streaming.
//!
//! Every input line is a request object (`{"principal", "action", "resource", "context"}`, uids
//! as `{"type", "id"}` or `"Type::\"id\""`). Every output line, in input order, is compact JSON:
//! `{"decision":"allow","reasons":["policy3"],"errors":[]}` (ids sorted; `errors` names the
//! policies whose evaluation failed), or `{"error":"FILE:LINE: ..."}` for a line that is not a
//! valid request (not JSON, not a request, not valid UTF-8, not valid for the schema); the batch
//! goes on. The compiled engines decide with the policies bound to the entities
//! ([`Authorizer::bind`]).
//!
//! The batch streams, in three threads and a pipeline of bounded queues:
//! - a reader reads the input in blocks and sends its complete lines in batches — a batch is
//!   sent at the latest when a read has been split into lines, before the next read (which may
//!   wait for a slow producer), so no line waits for more input;
//! - the decider gathers batches into a chunk of at most [`chunk_lines`] lines (and about a
//!   batch more), waiting for more for at most [`CHUNK_WAIT`] after the chunk's first batch
//!   arrived; splits the chunk into contiguous parts, one per worker thread (`--threads`); each
//!   worker parses its part, waits for the others (a barrier), then decides blocks of
//!   [`BLOCK`] lines claimed from a shared counter until none is left (so a worker the
//!   scheduler slows takes fewer, and the workers finish together), and writes its blocks'
//!   output lines; the blocks, in order, are the chunk's output;
//! - a writer writes each chunk's output and flushes it.
//!
//! Memory is bounded by the queues and the chunk (a few chunks of lines), not by the input; the
//! first decision of a slow producer's first line is written as soon as it is decided. A line
//! is a request document, held to the runtime's limit on those
//! ([`MAX_LINE_BYTES`]: `MAX_CONTEXT_BYTES`, 16 MiB): the reader keeps at most that much of a
//! line, skips the rest of a longer one up to its line end without holding it, and that line's
//! output is an error naming its length; the batch goes on with the next line. A batch is sent
//! once it holds [`BATCH_BYTES`], and a chunk takes batches up to [`CHUNK_BYTES`], so many long
//! lines are not gathered by the thousand.
//!
//! `--stats` prints one JSON line to stderr at the end: the request count (input lines), how
//! many were allowed, denied and not requests (`error`), how many decisions had policy errors,
//! the worker threads, the time to load (and, for `--engine vm` and `jit`, compile) the policies
//! and the entities, the evaluation time per request (the sum over the chunks of the workers'
//! evaluation window — from the first worker starting on its parsed requests to the last one
//! finishing — over the requests decided), the median, 99th percentile and largest time of one
//! decision (each worker reads the clock after every decision; the quantiles come from a
//! [`Histogram`] of 128 buckets per power of two, within 0.4% of the exact value; the largest
//! is exact), for the compiled engines the time to bind and, for `--engine jit`, the part of the
//! compile time spent making native code and how many policies run natively.
//!
//! When standard error is a terminal and the decisions do not go to it, a progress line
//! (`N requests, R/s`) is shown there once the batch has run for a second, updated every second
//! and cleared at the end.

use std::io::{IsTerminal, Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use thuja::input::{self, InputError};
use thuja::{Authorizer, Bound, Decision, Request, Response, Schema};

use super::authorize::AuthorizeArgs;

/// Bytes read from the input at once.
const READ_BYTES: usize = 1 << 16;
/// At most this many lines in one batch the reader sends.
const BATCH_LINES: usize = 1024;
/// A batch is sent once its lines hold this many bytes.
const BATCH_BYTES: usize = 1 << 20;
/// A chunk takes no more batches once its lines hold this many bytes.
const CHUNK_BYTES: usize = 64 << 20;
/// The longest request line, not counting its line end: a request is a JSON document from a
/// caller that may be hostile, held to the runtime's limit on those.
pub const MAX_LINE_BYTES: usize = thuja_runtime::json::limits::MAX_CONTEXT_BYTES;
/// Batches the reader may have sent that the decider has not taken.
const QUEUED_BATCHES: usize = 16;
/// Chunks decided but not yet written.
const QUEUED_CHUNKS: usize = 2;
/// The most worker threads (each chunk starts its own, and each keeps a [`Histogram`]).
const MAX_THREADS: usize = 256;
/// How long the decider waits for a chunk to fill once its first batch arrived.
const CHUNK_WAIT: Duration = Duration::from_millis(5);

/// The most lines in one chunk: enough that each worker has 1,024, at least 8,192 and at most
/// 65,536 (the chunk may take one batch more).
fn chunk_lines(threads: usize) -> usize {
    threads.saturating_mul(1024).clamp(8192, 65536)
}

/// One output line for a decided request.
#[derive(Serialize)]
struct DecisionLine<'a> {
    decision: &'static str,
    reasons: Vec<&'a str>,
    errors: Vec<&'a str>,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    error: &'a str,
}

#[derive(Serialize)]
struct Stats {
    /// Input lines.
    requests: u64,
    /// Decisions allowed, denied, and lines that were not valid requests (or not decided).
    allow: u64,
    deny: u64,
    error: u64,
    /// Decisions (allow or deny) in which some policy raised an error.
    policy_errors: u64,
    /// The most worker threads one chunk used.
    threads: usize,
    compile_ms: f64,
    entities_ms: f64,
    eval_ns_per_request: f64,
    /// The median, 99th percentile and largest time of one decision (with its clock read).
    p50_ns: u64,
    p99_ns: u64,
    max_ns: u64,
    /// Joining the compiled policies with the entities ([`Authorizer::bind`]); not for the
    /// interpreter.
    #[serde(skip_serializing_if = "Option::is_none")]
    bind_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jit_compile_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jit_native_policies: Option<usize>,
}

/// The name standard input goes by in error lines.
const STDIN_NAME: &str = "<stdin>";
/// The name standard output goes by in errors.
const STDOUT_NAME: &str = "<stdout>";

/// Runs the batch; returns an input error only for what stops the whole batch (the decisions
/// made before a read or write error are written).
pub fn run(args: &AuthorizeArgs, requests_path: &Path) -> Result<(), InputError> {
    let started = Instant::now();
    let authorizer = Authorizer::with_engine(args.engine);
    let policies = super::authorize::load_policies(args)?;
    let schema = super::authorize::load_schema(args)?;
    // Typed code needs requests validated against the schema.
    let policies = match schema.as_ref().filter(|_| args.request.request_validation) {
        Some(schema) => authorizer.compile_for_schema(&policies, schema),
        None => authorizer.compile(&policies),
    };
    let compile_ms = millis(started);

    let started = Instant::now();
    let entities = input::entities_from_file(&args.entities, schema.as_ref())?;
    let entities_ms = millis(started);

    let started = Instant::now();
    let bound = authorizer.bind(&policies, &entities);
    let bind_ms = millis(started);

    let from_stdin = requests_path == Path::new("-");
    let (name, source): (String, Box<dyn Read + Send>) = if from_stdin {
        (STDIN_NAME.to_string(), Box::new(std::io::stdin()))
    } else {
        let file =
            std::fs::File::open(requests_path).map_err(|e| InputError::io(requests_path, e))?;
        (requests_path.display().to_string(), Box::new(file))
    };
    let (target, target_name) = match args.output.as_deref() {
        Some(path) => (
            Some(std::fs::File::create(path).map_err(|e| InputError::io(path, e))?),
            path.to_path_buf(),
        ),
        None => (None, PathBuf::from(STDOUT_NAME)),
    };
    let shows_progress =
        std::io::stderr().is_terminal() && (target.is_some() || !std::io::stdout().is_terminal());

    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, MAX_THREADS);
    let context = Context {
        file: &name,
        authorizer: &authorizer,
        bound: &bound,
        schema: schema.as_ref(),
        validate: args.request.request_validation,
    };

    let (batches, from_reader) = mpsc::sync_channel(QUEUED_BATCHES);
    let reader = std::thread::Builder::new()
        .name("batch-reader".into())
        .spawn(move || read_lines(source, &batches))
        .map_err(|e| InputError::io(requests_path, e))?;
    let (chunks, to_writer) = mpsc::sync_channel(QUEUED_CHUNKS);
    let writer = std::thread::Builder::new()
        .name("batch-writer".into())
        .spawn(move || write_chunks(target, &to_writer))
        .map_err(|e| InputError::io(&target_name, e))?;

    let mut totals = Totals::default();
    let mut progress = Progress::new(shows_progress);
    let mut histograms: Vec<Histogram> = Vec::new();
    let max_lines = chunk_lines(threads);
    let mut writer_stopped = false;
    while let Some(chunk) = next_chunk(&from_reader, max_lines) {
        let output = decide_chunk(&context, &chunk, threads, &mut histograms, &mut totals);
        drop(chunk);
        if chunks.send(output).is_err() {
            // The writer failed (its error is reported below): stop reading and deciding.
            writer_stopped = true;
            break;
        }
        progress.update(totals.requests);
    }
    drop(chunks);
    progress.clear();
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the output writer failed")));
    written.map_err(|e| InputError::io(&target_name, e))?;
    if !writer_stopped {
        // The reader has ended (the channel closed): a read error stops the batch here, after
        // what was read before it was written.
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the input reader failed")));
        read.map_err(|e| InputError::io(requests_path, e))?;
    }

    if args.stats {
        let native = match args.engine {
            thuja::Evaluator::Jit => policies.native().ok(),
            _ => None,
        };
        let mut times = Histogram::default();
        for h in &histograms {
            times.merge(h);
        }
        let stats = Stats {
            requests: totals.requests,
            allow: totals.allow,
            deny: totals.deny,
            error: totals.error,
            policy_errors: totals.policy_errors,
            threads: totals.threads.max(1),
            compile_ms,
            entities_ms,
            eval_ns_per_request: if totals.decided == 0 {
                0.0
            } else {
                totals.window_ns as f64 / totals.decided as f64
            },
            p50_ns: times.quantile(0.5),
            p99_ns: times.quantile(0.99),
            max_ns: times.max,
            bind_ms: (args.engine != thuja::Evaluator::Interp).then_some(bind_ms),
            jit_compile_ms: native.map(|c| c.compile_time().as_secs_f64() * 1e3),
            jit_native_policies: native.map(thuja::NativeCode::native_count),
        };
        eprintln!("{}", to_json(&stats));
    }
    Ok(())
}

fn millis(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

// ----- reading -----

/// Complete lines read together, without their line ends, numbered from `first`.
struct Batch {
    first: usize,
    text: Vec<u8>,
    /// The end of each line in `text` (each starts where the one before ended).
    ends: Vec<usize>,
    /// The lines longer than [`MAX_LINE_BYTES`] (held empty in `text`): their index in the
    /// batch and their length, in increasing index.
    too_long: Vec<(usize, u64)>,
}

/// A line as the workers get it.
#[derive(Clone, Copy)]
enum Line<'a> {
    Text(&'a [u8]),
    /// A line of this many bytes, longer than [`MAX_LINE_BYTES`]: not kept.
    TooLong(u64),
}

impl Batch {
    fn new(first: usize) -> Self {
        Batch {
            first,
            text: Vec::new(),
            ends: Vec::new(),
            too_long: Vec::new(),
        }
    }

    /// Adds a line; `ended` if a `\n` ended it, in which case a `\r` before it goes too (as
    /// [`str::lines`] splits). A line longer than [`MAX_LINE_BYTES`] is added as too long.
    fn push(&mut self, line: &[u8], ended: bool) {
        let line = match line {
            [rest @ .., b'\r'] if ended => rest,
            _ => line,
        };
        if line.len() > MAX_LINE_BYTES {
            self.push_too_long(line.len() as u64);
            return;
        }
        self.text.extend_from_slice(line);
        self.ends.push(self.text.len());
    }

    /// Adds a line of `bytes` bytes, too long to be kept.
    fn push_too_long(&mut self, bytes: u64) {
        self.too_long.push((self.ends.len(), bytes));
        self.ends.push(self.text.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether it is time to send it.
    fn full(&self) -> bool {
        self.len() >= BATCH_LINES || self.text.len() >= BATCH_BYTES
    }

    fn lines(&self) -> impl Iterator<Item = (usize, Line<'_>)> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.ends
            .iter()
            .zip(starts)
            .enumerate()
            .map(|(i, (&end, start))| {
                let line = match self.too_long.binary_search_by_key(&i, |&(at, _)| at) {
                    Ok(at) => Line::TooLong(self.too_long.get(at).map_or(0, |&(_, n)| n)),
                    Err(_) => Line::Text(self.text.get(start..end).unwrap_or(&[])),
                };
                (self.first + i, line)
            })
    }
}

/// Reads `source` to its end, sending its lines in batches; returns the read error that stopped
/// it, if one did. Stops quietly when the decider no longer takes batches. Holds at most
/// [`MAX_LINE_BYTES`] (and a `\r`) of a line: past that, the rest of the line is only counted.
fn read_lines(
    mut source: Box<dyn Read + Send>,
    batches: &SyncSender<Batch>,
) -> std::io::Result<()> {
    let mut buffer = vec![0u8; READ_BYTES];
    // The start of a line whose end has not been read yet.
    let mut partial: Vec<u8> = Vec::new();
    // The length so far of a line too long to keep, being skipped to its end, and whether its
    // last byte so far is a `\r`.
    let mut skipping: Option<(u64, bool)> = None;
    let mut batch = Batch::new(1);
    loop {
        let read = match source.read(&mut buffer) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // The lines read so far are decided; the partial one was not ended.
                if batch.len() > 0 {
                    let _ = batches.send(batch);
                }
                return Err(e);
            }
        };
        if read == 0 {
            if let Some((bytes, _)) = skipping {
                batch.push_too_long(bytes);
            } else if !partial.is_empty() {
                batch.push(&partial, false);
            }
            if batch.len() > 0 {
                let _ = batches.send(batch);
            }
            return Ok(());
        }
        let mut rest = buffer.get(..read).unwrap_or(&[]);
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = rest.split_at(at);
            if let Some((bytes, cr)) = skipping.take() {
                // Its length without the line end, as [`Batch::push`] counts.
                let cr = line.last().map_or(cr, |&b| b == b'\r');
                batch.push_too_long(bytes + line.len() as u64 - u64::from(cr));
            } else if partial.is_empty() {
                batch.push(line, true);
            } else {
                partial.extend_from_slice(line);
                batch.push(&partial, true);
                partial.clear();
            }
            rest = after.get(1..).unwrap_or(&[]);
            if batch.full() {
                let next = batch.first + batch.len();
                if batches
                    .send(std::mem::replace(&mut batch, Batch::new(next)))
                    .is_err()
                {
                    return Ok(());
                }
            }
        }
        let last = rest.last().or(partial.last()).copied();
        match skipping.as_mut() {
            Some((bytes, cr)) => {
                *bytes += rest.len() as u64;
                *cr = rest.last().map_or(*cr, |&b| b == b'\r');
            }
            // Past the limit and a `\r`, the line is too long whatever ends it.
            None if partial.len() + rest.len() > MAX_LINE_BYTES + 1 => {
                skipping = Some(((partial.len() + rest.len()) as u64, last == Some(b'\r')));
                partial = Vec::new();
            }
            None => partial.extend_from_slice(rest),
        }
        // The next read may wait for the producer: what is complete goes now.
        if batch.len() > 0 {
            let next = batch.first + batch.len();
            if batches
                .send(std::mem::replace(&mut batch, Batch::new(next)))
                .is_err()
            {
                return Ok(());
            }
        }
    }
}

/// The next chunk: at least one batch (waiting for it as long as it takes), then what else
/// arrives within [`CHUNK_WAIT`], up to `max_lines` lines and [`CHUNK_BYTES`] bytes. `None` at the end of the input.
fn next_chunk(from_reader: &Receiver<Batch>, max_lines: usize) -> Option<Vec<Batch>> {
    let first = from_reader.recv().ok()?;
    let deadline = Instant::now() + CHUNK_WAIT;
    let mut lines = first.len();
    let mut bytes = first.text.len();
    let mut chunk = vec![first];
    while lines < max_lines && bytes < CHUNK_BYTES {
        let wait = deadline.saturating_duration_since(Instant::now());
        match from_reader.recv_timeout(wait) {
            Ok(batch) => {
                lines += batch.len();
                bytes += batch.text.len();
                chunk.push(batch);
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(chunk)
}

// ----- deciding -----

/// What every worker shares.
struct Context<'a> {
    /// The input's name in error lines.
    file: &'a str,
    authorizer: &'a Authorizer,
    bound: &'a Bound<'a>,
    schema: Option<&'a Schema>,
    validate: bool,
}

/// Counts and times over the whole batch.
#[derive(Default)]
struct Totals {
    requests: u64,
    allow: u64,
    deny: u64,
    error: u64,
    policy_errors: u64,
    /// Requests decided (timed).
    decided: u64,
    /// The sum over the chunks of their evaluation windows.
    window_ns: u128,
    threads: usize,
}

/// What one worker did in a chunk.
struct Part {
    /// The output of each block this worker decided: the block's number and its lines.
    blocks: Vec<(usize, Vec<u8>)>,
    allow: u64,
    deny: u64,
    error: u64,
    policy_errors: u64,
    decided: u64,
    /// When it started and finished deciding (`None` if it decided nothing).
    window: Option<(Instant, Instant)>,
}

const NOT_DECIDED: &str = "internal error: the request was not decided (denied)";

/// Requests a worker claims at a time. Small enough that the workers finish a chunk together
/// (one slowed by the scheduler takes fewer blocks), large enough that claiming (one atomic
/// add) costs nothing next to the decisions.
const BLOCK: usize = 64;

/// What the workers of a chunk share: the lines, split into one contiguous part per worker
/// for parsing, each part's requests once parsed, and the next block to decide.
struct Shared<'a, 'l> {
    lines: &'a [(usize, Line<'l>)],
    per_part: usize,
    parsed: &'a [OnceLock<Vec<Result<Request, String>>>],
    next: Claims,
    ready: Gate,
}

/// The next block to claim, alone on its cache lines: the workers write it, and the fields
/// they only read (read for every request) must not share a line with it.
#[repr(align(128))]
struct Claims(AtomicUsize);

impl Shared<'_, '_> {
    /// The request of line `at` of the chunk, if its part was parsed.
    fn request(&self, at: usize) -> Option<&Result<Request, String>> {
        self.parsed
            .get(at / self.per_part)?
            .get()?
            .get(at % self.per_part)
    }
}

/// Decides a chunk in `threads` workers: each parses a contiguous part of its lines, then
/// (once every worker has parsed: a barrier, so thread start-up and parsing are outside the
/// timed window) they decide blocks of [`BLOCK`] lines claimed from a shared counter, each
/// writing its blocks' output; the blocks are put back in input order. The workers write
/// nothing they share but the counter. Returns the output, in order.
fn decide_chunk(
    context: &Context<'_>,
    chunk: &[Batch],
    threads: usize,
    histograms: &mut Vec<Histogram>,
    totals: &mut Totals,
) -> Vec<Vec<u8>> {
    let lines: Vec<(usize, Line<'_>)> = chunk.iter().flat_map(Batch::lines).collect();
    let per_part = lines.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<&[(usize, Line<'_>)]> = lines.chunks(per_part).collect();
    if histograms.len() < parts.len() {
        histograms.resize_with(parts.len(), Histogram::default);
    }
    let parsed: Vec<OnceLock<Vec<Result<Request, String>>>> =
        parts.iter().map(|_| OnceLock::new()).collect();
    let shared = Shared {
        lines: &lines,
        per_part,
        parsed: &parsed,
        next: Claims(AtomicUsize::new(0)),
        ready: Gate::default(),
    };
    let done: Vec<Part> = std::thread::scope(|scope| {
        let shared = &shared;
        let workers: Vec<_> = parts
            .iter()
            .enumerate()
            .zip(histograms.iter_mut())
            .map(|((i, &part), times)| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        decide_blocks(context, shared, i, part, times)
                    })
                    .ok()
            })
            .collect();
        // The workers that started wait for each other (the lines of one that could not start
        // are not parsed: they are answered as not decided).
        shared.ready.expect(workers.iter().flatten().count());
        workers
            .into_iter()
            .filter_map(|w| w.and_then(|w| w.join().ok()))
            .collect()
    });
    totals.requests += lines.len() as u64;
    totals.threads = totals.threads.max(parts.len());
    let (mut first, mut last): (Option<Instant>, Option<Instant>) = (None, None);
    let mut blocks: Vec<(usize, Vec<u8>)> = Vec::new();
    for part in done {
        totals.allow += part.allow;
        totals.deny += part.deny;
        totals.error += part.error;
        totals.policy_errors += part.policy_errors;
        totals.decided += part.decided;
        if let Some((started, finished)) = part.window {
            first = Some(first.map_or(started, |f| f.min(started)));
            last = Some(last.map_or(finished, |l| l.max(finished)));
        }
        blocks.extend(part.blocks);
    }
    if let (Some(first), Some(last)) = (first, last) {
        totals.window_ns += last.duration_since(first).as_nanos();
    }
    blocks.sort_unstable_by_key(|&(block, _)| block);
    // Fail closed: a block no worker answered (its worker died) is answered as not decided.
    let mut output = Vec::with_capacity(blocks.len());
    let mut blocks = blocks.into_iter().peekable();
    for block in 0..lines.len().div_ceil(BLOCK) {
        match blocks.next_if(|&(b, _)| b == block) {
            Some((_, text)) => output.push(text),
            None => {
                let mut text = Vec::new();
                let lines_in_block = BLOCK.min(lines.len() - block * BLOCK);
                for _ in 0..lines_in_block {
                    error_line(&mut text, NOT_DECIDED);
                }
                totals.error += lines_in_block as u64;
                output.push(text);
            }
        }
    }
    output
}

/// Where the workers of a chunk wait for each other: a barrier for as many as started, a number
/// known only once they have been started.
#[derive(Default)]
struct Gate {
    /// The workers that arrived, and how many are expected once known.
    state: Mutex<(usize, Option<usize>)>,
    opened: Condvar,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, (usize, Option<usize>)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Says how many workers to wait for.
    fn expect(&self, workers: usize) {
        let mut state = self.lock();
        state.1 = Some(workers);
        self.opened.notify_all();
    }

    /// Arrives, and waits until every expected worker has.
    fn wait(&self) {
        let mut state = self.lock();
        state.0 += 1;
        self.opened.notify_all();
        while state.1.is_none_or(|expected| state.0 < expected) {
            state = self
                .opened
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// One worker: parses its part (number `index`), waits for the other workers, then decides
/// blocks claimed from the shared counter until none is left, writing each block's lines. A
/// panic while parsing (there should be none) leaves its part's lines undecided (error lines);
/// one while deciding a block answers that block's lines as not decided, and the worker goes
/// on with the next.
fn decide_blocks(
    context: &Context<'_>,
    shared: &Shared<'_, '_>,
    index: usize,
    part: &[(usize, Line<'_>)],
    times: &mut Histogram,
) -> Part {
    let mut requests: Vec<Result<Request, String>> = Vec::with_capacity(part.len());
    let parsed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        for &(number, line) in part {
            requests.push(parse_line(context, number, line));
        }
    }));
    if parsed.is_err() {
        requests.clear();
    }
    if let Some(slot) = shared.parsed.get(index) {
        let _ = slot.set(requests);
    }
    shared.ready.wait();

    let mut done = Part {
        blocks: Vec::new(),
        allow: 0,
        deny: 0,
        error: 0,
        policy_errors: 0,
        decided: 0,
        window: None,
    };
    // Each block claimed: its number, its lines, and their responses.
    let mut answered: Vec<(usize, std::ops::Range<usize>, Vec<Option<Response>>)> = Vec::new();
    let started = Instant::now();
    let mut last = started;
    let blocks = shared.lines.len().div_ceil(BLOCK);
    loop {
        let block = shared.next.0.fetch_add(1, Ordering::Relaxed);
        if block >= blocks {
            break;
        }
        let range = block * BLOCK..((block + 1) * BLOCK).min(shared.lines.len());
        let mut responses: Vec<Option<Response>> = Vec::with_capacity(range.len());
        let decided = std::panic::catch_unwind(AssertUnwindSafe(|| {
            for at in range.clone() {
                let Some(Ok(request)) = shared.request(at) else {
                    responses.push(None);
                    continue;
                };
                responses.push(Some(
                    context
                        .authorizer
                        .is_authorized_bound(request, context.bound),
                ));
                let now = Instant::now();
                times
                    .record(u64::try_from(now.duration_since(last).as_nanos()).unwrap_or(u64::MAX));
                last = now;
                done.decided += 1;
            }
        }));
        if decided.is_err() {
            responses.clear();
        }
        answered.push((block, range, responses));
    }
    done.window = (done.decided > 0).then_some((started, last));
    // Written after the timed window.
    for (block, range, responses) in answered {
        let mut text = Vec::with_capacity(range.len() * 64);
        for (i, at) in range.enumerate() {
            match (shared.request(at), responses.get(i)) {
                (Some(Err(error)), _) => {
                    error_line(&mut text, error);
                    done.error += 1;
                }
                (Some(Ok(_)), Some(Some(response))) => {
                    decision_line(&mut text, response);
                    match response.decision {
                        Decision::Allow => done.allow += 1,
                        Decision::Deny => done.deny += 1,
                    }
                    if !response.errors.is_empty() {
                        done.policy_errors += 1;
                    }
                }
                _ => {
                    error_line(&mut text, NOT_DECIDED);
                    done.error += 1;
                }
            }
        }
        done.blocks.push((block, text));
    }
    done
}

fn parse_line(context: &Context<'_>, number: usize, line: Line<'_>) -> Result<Request, String> {
    let at = |message: &dyn std::fmt::Display| format!("{}:{number}: {message}", context.file);
    let line = match line {
        Line::Text(text) => text,
        Line::TooLong(bytes) => {
            return Err(at(&format_args!(
                "the request is {bytes} bytes long, more than the {MAX_LINE_BYTES} allowed (MAX_CONTEXT_BYTES)"
            )));
        }
    };
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RequestLine {
        principal: serde_json::Value,
        action: serde_json::Value,
        resource: serde_json::Value,
        #[serde(default)]
        context: Option<serde_json::Value>,
    }
    let line = std::str::from_utf8(line).map_err(|_| at(&"the line is not valid UTF-8"))?;
    let parsed: RequestLine = serde_json::from_str(line).map_err(|e| at(&e))?;
    let request_context = parsed.context.unwrap_or_else(|| serde_json::json!({}));
    input::request_from_json_values(
        &parsed.principal,
        &parsed.action,
        &parsed.resource,
        &request_context,
        input::RequestSchema::of(context.schema, context.validate),
    )
    .map_err(|e| at(&e.summary()))
}

/// Appends the output line of a decision.
fn decision_line(out: &mut Vec<u8>, response: &Response) {
    let mut errors: Vec<&str> = response
        .errors
        .iter()
        .map(|e| e.policy_id.as_ref())
        .collect();
    errors.sort_unstable();
    errors.dedup();
    write_json(
        out,
        &DecisionLine {
            decision: match response.decision {
                Decision::Allow => "allow",
                Decision::Deny => "deny",
            },
            reasons: response.reasons.iter().map(AsRef::as_ref).collect(),
            errors,
        },
    );
}

/// Appends an error line.
fn error_line(out: &mut Vec<u8>, error: &str) {
    write_json(out, &ErrorLine { error });
}

/// Appends `value` as one line of compact JSON.
fn write_json(out: &mut Vec<u8>, value: &impl Serialize) {
    let before = out.len();
    if let Err(e) = serde_json::to_writer(&mut *out, value) {
        out.truncate(before);
        out.extend_from_slice(
            to_json(&ErrorLine {
                error: &e.to_string(),
            })
            .as_bytes(),
        );
    }
    out.push(b'\n');
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

// ----- writing -----

/// Writes each chunk's output to `target` (standard output if `None`), flushing after each
/// chunk; returns the write error that stopped it, if one did.
fn write_chunks(
    target: Option<std::fs::File>,
    chunks: &Receiver<Vec<Vec<u8>>>,
) -> std::io::Result<()> {
    let mut out: Box<dyn Write> = match target {
        Some(file) => Box::new(std::io::BufWriter::with_capacity(1 << 16, file)),
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout().lock(),
        )),
    };
    for chunk in chunks {
        for part in &chunk {
            out.write_all(part)?;
        }
        out.flush()?;
    }
    out.flush()
}

// ----- statistics -----

/// Sub-buckets per power of two: a bucket is at most 1/128 of its values wide.
const SUB_BITS: u32 = 7;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// Values below `2 * SUB_BUCKETS` have a bucket each; each power of two above has
/// `SUB_BUCKETS`, up to 2^64.
const BUCKETS: usize = (64 - SUB_BITS as usize) * SUB_BUCKETS + SUB_BUCKETS;

/// Counts of nanosecond times in log-linear buckets (as HdrHistogram): the quantiles it gives
/// are the middle of their bucket, within 1/256 (0.4%) of a time in it; the largest time is
/// kept exactly. Fixed size (58 KiB), however many times it counts.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    fn bucket(value: u64) -> usize {
        if value < 2 * SUB_BUCKETS as u64 {
            return value as usize;
        }
        // value >= 256: its top bit is at 8 or above.
        let top = 63 - value.leading_zeros();
        let shift = top - SUB_BITS;
        let mantissa = (value >> shift) as usize; // in SUB_BUCKETS..2 * SUB_BUCKETS
        ((shift as usize + 1) << SUB_BITS) + (mantissa - SUB_BUCKETS)
    }

    /// The smallest value of `bucket` and its width.
    fn bounds(bucket: usize) -> (u64, u64) {
        if bucket < 2 * SUB_BUCKETS {
            return (bucket as u64, 1);
        }
        let shift = (bucket >> SUB_BITS) - 1;
        let mantissa = (SUB_BUCKETS + (bucket & (SUB_BUCKETS - 1))) as u64;
        (mantissa << shift, 1 << shift)
    }

    fn record(&mut self, value: u64) {
        if let Some(count) = self.counts.get_mut(Self::bucket(value)) {
            *count += 1;
        }
        self.total += 1;
        self.max = self.max.max(value);
    }

    fn merge(&mut self, other: &Histogram) {
        for (count, more) in self.counts.iter_mut().zip(&other.counts) {
            *count += more;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// The value of rank `(total - 1) * q` (rounded down) in sorted order, as the middle of
    /// its bucket (never above the largest value); 0 when empty.
    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((self.total - 1) as f64 * q) as u64;
        let mut seen = 0;
        for (bucket, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen > rank {
                let (low, width) = Self::bounds(bucket);
                return low.saturating_add(width / 2).min(self.max);
            }
        }
        self.max
    }
}

// ----- progress -----

/// The progress line on standard error.
struct Progress {
    enabled: bool,
    started: Instant,
    shown: Option<Instant>,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            started: Instant::now(),
            shown: None,
        }
    }

    fn update(&mut self, requests: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let due = self.shown.map_or(self.started, |shown| shown) + Duration::from_secs(1);
        if now < due {
            return;
        }
        let rate = requests as f64 / now.duration_since(self.started).as_secs_f64().max(1e-9);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{requests} requests, {rate:.0}/s");
        let _ = err.flush();
        self.shown = Some(now);
    }

    fn clear(&mut self) {
        if self.shown.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_contiguous_and_narrow() {
        let mut previous = 0;
        for value in (0..100_000u64).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let bucket = Histogram::bucket(value);
            assert!(bucket < BUCKETS, "{value}");
            assert!(bucket >= previous || value > 100_000, "{value}");
            previous = bucket;
            let (low, width) = Histogram::bounds(bucket);
            assert!(
                low <= value && value - low < width,
                "{value}: {low} +{width}"
            );
            assert!(width == 1 || width * 128 <= low, "{value}: {low} +{width}");
        }
        assert_eq!(Histogram::bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn histogram_quantiles_are_within_half_a_percent() {
        let mut times = Histogram::default();
        let mut all: Vec<u64> = (0..20_000u64).map(|i| (i * 7919) % 100_003 + 50).collect();
        for &t in &all {
            times.record(t);
        }
        all.sort_unstable();
        for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
            let exact = all[((all.len() - 1) as f64 * q) as usize] as f64;
            let got = times.quantile(q) as f64;
            assert!(
                (got - exact).abs() <= exact / 250.0,
                "{q}: {got} vs {exact}"
            );
        }
        assert_eq!(times.max, *all.last().unwrap());
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }

    #[test]
    fn lines_split_as_str_lines() {
        for text in ["", "a", "a\n", "a\r\nb", "a\n\nb\r", "\r\n\r\n", "x\ry\n"] {
            let (batches, from) = mpsc::sync_channel(100);
            read_lines(
                Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
                &batches,
            )
            .unwrap();
            drop(batches);
            let got: Vec<(usize, String)> = from
                .iter()
                .flat_map(|b| {
                    b.lines()
                        .map(|(n, l)| match l {
                            Line::Text(l) => (n, String::from_utf8(l.to_vec()).unwrap()),
                            Line::TooLong(_) => panic!("{text:?}: a short line is too long"),
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            let expected: Vec<(usize, String)> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.to_string()))
                .collect();
            assert_eq!(got, expected, "{text:?}");
        }
    }

    /// Reads `input`, returning each line's number and text, or its length if too long.
    fn read_all(input: Vec<u8>) -> Vec<(usize, Result<usize, u64>)> {
        let (batches, from) = mpsc::sync_channel(10_000);
        read_lines(Box::new(std::io::Cursor::new(input)), &batches).unwrap();
        drop(batches);
        let got: Vec<_> = from
            .iter()
            .flat_map(|b| {
                assert!(b.text.len() <= BATCH_BYTES + MAX_LINE_BYTES);
                b.lines()
                    .map(|(n, l)| match l {
                        Line::Text(l) => (n, Ok(l.len())),
                        Line::TooLong(bytes) => (n, Err(bytes)),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        got
    }

    #[test]
    fn lines_past_the_limit_are_counted_not_kept() {
        let max = MAX_LINE_BYTES;
        let line = |n: usize, end: &str| {
            let mut l = vec![b'x'; n];
            l.extend_from_slice(end.as_bytes());
            l
        };
        // As long as allowed (with either line end), one byte more, much more, at the end.
        let mut input = Vec::new();
        for part in [
            line(max, "\r\n"),
            line(3, "\n"),
            line(max + 1, "\n"),
            line(max + 1, "\r\n"),
            line(3 * max, "\r\n"),
            line(max, "\n"),
            line(0, "\n"),
            line(2 * max + 7, ""),
        ] {
            input.extend_from_slice(&part);
        }
        assert_eq!(
            read_all(input),
            vec![
                (1, Ok(max)),
                (2, Ok(3)),
                (3, Err(max as u64 + 1)),
                (4, Err(max as u64 + 1)),
                (5, Err(3 * max as u64)),
                (6, Ok(max)),
                (7, Ok(0)),
                (8, Err(2 * max as u64 + 7)),
            ]
        );
        // A `\r` that is the last byte of a read, then the line end.
        let mut input = line(max + READ_BYTES * 2 - 1, "\r");
        input.extend_from_slice(b"\nab");
        assert_eq!(
            read_all(input),
            vec![(1, Err(max as u64 + READ_BYTES as u64 * 2 - 1)), (2, Ok(2))]
        );
    }
}
