//! Prometheus metrics, served as text by the admin listener's `/metrics`:
//!
//! - `thuja_decisions_total{api, decision}`: decisions made (`api` = `authzen`, `cedar`,
//!   `forward_auth`, `ext_authz`; `decision` = `allow`, `deny`, `unauthenticated` for a
//!   gateway request without a principal, `error` for a request that could not be decided);
//! - `thuja_request_duration_seconds{api}`: time to answer a request (histogram);
//! - `thuja_reloads_total{result}`: reloads (`ok`, `unchanged`, `error`);
//! - `thuja_policies`, `thuja_entities`: the serving engine's counts;
//! - `thuja_revision_info{revision}`: 1 for the serving revision;
//! - `thuja_decision_log_dropped_total`: decision log lines dropped because the writer fell
//!   behind.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The server's metrics, registered in their own registry.
pub(crate) struct Metrics {
    registry: Registry,
    pub decisions: IntCounterVec,
    pub duration: HistogramVec,
    pub reloads: IntCounterVec,
    pub policies: IntGauge,
    pub entities: IntGauge,
    revision: IntGaugeVec,
    pub log_dropped: IntCounter,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let decisions = IntCounterVec::new(
            Opts::new(
                "thuja_decisions_total",
                "Decisions made, by API and decision",
            ),
            &["api", "decision"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "thuja_request_duration_seconds",
                "Time to answer a request, by API",
            )
            .buckets(vec![
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25, 1.0,
            ]),
            &["api"],
        )?;
        let reloads = IntCounterVec::new(
            Opts::new("thuja_reloads_total", "Reloads of the inputs, by result"),
            &["result"],
        )?;
        let policies = IntGauge::new("thuja_policies", "Policies in the serving engine")?;
        let entities = IntGauge::new("thuja_entities", "Entities in the serving engine")?;
        let revision = IntGaugeVec::new(
            Opts::new(
                "thuja_revision_info",
                "The serving input revision (value 1)",
            ),
            &["revision"],
        )?;
        registry.register(Box::new(decisions.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(reloads.clone()))?;
        registry.register(Box::new(policies.clone()))?;
        registry.register(Box::new(entities.clone()))?;
        let log_dropped = IntCounter::new(
            "thuja_decision_log_dropped_total",
            "Decision log lines dropped because the writer fell behind",
        )?;
        registry.register(Box::new(revision.clone()))?;
        registry.register(Box::new(log_dropped.clone()))?;
        Ok(Metrics {
            registry,
            decisions,
            duration,
            reloads,
            policies,
            entities,
            revision,
            log_dropped,
        })
    }

    /// Records one decision (or failure to decide) on `api`.
    pub fn decided(&self, api: &str, decision: &str) {
        self.decisions.with_label_values(&[api, decision]).inc();
    }

    /// Records the serving engine's revision and counts.
    pub fn serving(&self, revision: &str, policies: usize, entities: usize) {
        self.revision.reset();
        self.revision.with_label_values(&[revision]).set(1);
        self.policies
            .set(i64::try_from(policies).unwrap_or(i64::MAX));
        self.entities
            .set(i64::try_from(entities).unwrap_or(i64::MAX));
    }

    /// The metrics in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding gathered families into a Vec fails only on malformed families, which the
        // registry does not hold.
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!("encoding metrics: {e}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
