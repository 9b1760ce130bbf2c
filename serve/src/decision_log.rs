//! The decision log (`--decision-log PATH`, `-` for standard output): one JSON line per
//! decision, written by a thread of its own so that no request waits for the disk.
//!
//! ```json
//! {"time":"2026-12-07T07:30:00.123Z","api":"authzen","principal":"TinyTodo::User::\"alice\"",
//!  "action":"TinyTodo::Action::\"GetList\"","resource":"TinyTodo::List::\"groceries\"",
//!  "context":{"ip":{"__extn":{"fn":"ip","arg":"10.0.0.1"}}},"decision":"allow",
//!  "reasons":["owner-has-full-access"],"errors":[],"revision":"1f3a...","duration_us":41,
//!  "request_id":"7c1e..."}
//! ```
//!
//! - `request_id` is the `X-Request-ID` header of the HTTP request (for Envoy's `Check`, that
//!   header of the checked request, else Envoy's id for it), so a line can be matched with the
//!   gateway's and the client's logs; it is left out when the request carried none.
//! - `--decision-log-sample RATE` (0 < RATE ≤ 1, default 1) logs that share of decisions,
//!   evenly spaced (RATE 0.1: every tenth).
//! - Requests that could not be decided (malformed, invalid for the schema) are not decisions
//!   and are not logged; the metrics count them.
//! - When the writer falls behind by [`QUEUE`] lines, further lines are dropped (never the
//!   request) and counted in `thuja_decision_log_dropped_total`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use thuja::{Request, Response};

tokio::task_local! {
    /// The id of the request being answered (see the module documentation), set around the
    /// handler by the HTTP middleware and around the decision by the gRPC service.
    pub(crate) static REQUEST_ID: Option<String>;
}

/// Lines waiting for the writer at most.
pub const QUEUE: usize = 16_384;

/// Where the decision log goes, and how much of it.
pub(crate) struct DecisionLog {
    lines: SyncSender<String>,
    /// Decisions seen, for sampling.
    seen: AtomicU64,
    rate: f64,
    dropped: prometheus::IntCounter,
}

/// Why the decision log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DecisionLogError {
    /// The file could not be opened for appending.
    #[error("cannot open the decision log {path}: {error}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The sampling rate is not in (0, 1].
    #[error("the decision log's sampling rate must be in (0, 1], not {0}")]
    Rate(f64),
}

/// One decision, as the log records it.
pub(crate) struct Entry<'a> {
    pub api: &'a str,
    pub request: &'a Request,
    pub response: &'a Response,
    pub revision: &'a str,
    pub started: Instant,
}

impl DecisionLog {
    /// Opens `path` for appending (`-`: standard output) and starts the writer.
    pub fn open(
        path: &Path,
        rate: f64,
        dropped: prometheus::IntCounter,
    ) -> Result<Self, DecisionLogError> {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(DecisionLogError::Rate(rate));
        }
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|error| DecisionLogError::Open {
                        path: path.to_path_buf(),
                        error,
                    })?,
            )
        };
        let (lines, queued) = std::sync::mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("thuja-decision-log".into())
            .spawn(move || write_lines(queued, out))
            .map_err(|error| DecisionLogError::Open {
                path: path.to_path_buf(),
                error,
            })?;
        Ok(DecisionLog {
            lines,
            seen: AtomicU64::new(0),
            rate,
            dropped,
        })
    }

    /// Logs `entry` if the sampling picks it.
    pub fn record(&self, entry: &Entry<'_>) {
        if !self.sampled() {
            return;
        }
        let line = line(entry).to_string();
        if let Err(TrySendError::Full(_)) = self.lines.try_send(line) {
            self.dropped.inc();
        }
    }

    /// Whether this decision is logged: the n-th is when `floor(n × rate)` steps up.
    fn sampled(&self) -> bool {
        if self.rate >= 1.0 {
            return true;
        }
        let n = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        ((n as f64) * self.rate).floor() > (((n - 1) as f64) * self.rate).floor()
    }
}

fn line(entry: &Entry<'_>) -> Value {
    let request = entry.request;
    let ids = |ids: Vec<&str>| Value::from(ids);
    let mut line = json!({
        "time": rfc3339_now(),
        "api": entry.api,
        "principal": request.principal().to_string(),
        "action": request.action().to_string(),
        "resource": request.resource().to_string(),
        "context": thuja::output::context_json(request.context()).unwrap_or(Value::Null),
        "decision": thuja::output::decision_str(entry.response.decision),
        "reasons": ids(entry.response.reasons.iter().map(AsRef::as_ref).collect()),
        "errors": ids(entry.response.errors.iter().map(|e| e.policy_id.as_ref()).collect()),
        "revision": entry.revision,
        "duration_us": u64::try_from(entry.started.elapsed().as_micros()).unwrap_or(u64::MAX),
    });
    if let Ok(Some(id)) = REQUEST_ID.try_with(Clone::clone) {
        line["request_id"] = Value::String(id);
    }
    line
}

/// Writes lines as they come, flushing whenever the queue is empty; ends when every sender is
/// gone.
fn write_lines(queued: Receiver<String>, mut out: Box<dyn Write + Send>) {
    let mut unflushed = false;
    loop {
        match queued.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if writeln!(out, "{line}").is_err() {
                    tracing::error!("writing the decision log failed; it stops");
                    return;
                }
                unflushed = true;
                continue;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                let _ = out.flush();
                return;
            }
        }
        if unflushed {
            let _ = out.flush();
            unflushed = false;
        }
    }
}

/// Now as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
fn rfc3339_now() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's civil-from-days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_429), (2025, 12, 7));
        assert_eq!(civil_from_days(20_794), (2026, 12, 7));
    }

    #[test]
    fn sampling_is_evenly_spaced() {
        let log = |rate| DecisionLog {
            lines: std::sync::mpsc::sync_channel(1).0,
            seen: AtomicU64::new(0),
            rate,
            dropped: prometheus::IntCounter::new("x", "x").expect("counter"),
        };
        for (rate, picked) in [(1.0, 1000), (0.5, 500), (0.1, 100), (0.001, 1)] {
            let log = log(rate);
            assert_eq!(
                (0..1000).filter(|_| log.sampled()).count(),
                picked,
                "{rate}"
            );
        }
    }
}
