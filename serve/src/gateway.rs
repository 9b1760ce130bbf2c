//! Deciding a gateway's request, whichever protocol brought it (HTTP forward auth, Envoy
//! ext_authz): the [mapping](crate::mapping) makes the Cedar request, the serving engine
//! decides it. Anything that cannot be mapped, validated or decided denies (fail closed); the
//! protocols only differ in how they say so.

use std::sync::Arc;

use thuja::Decision;

use crate::mapping::{Mapped, Original};
use crate::state::App;

/// What a gateway is told.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Let the request through; `reasons` are the determining policies.
    Allow { reasons: Vec<String> },
    /// Refuse it: `why` when nothing was decided (no mapping, no route, a malformed or invalid
    /// request, no engine), none when the policies denied; `reasons` the determining forbids.
    Deny {
        why: Option<String>,
        reasons: Vec<String>,
    },
    /// No principal could be found (and why): the client must authenticate.
    NoPrincipal(String),
}

/// A verdict and the revision of the engine that gave it (none when no engine did).
#[derive(Debug)]
pub(crate) struct Gated {
    pub verdict: Verdict,
    pub revision: Option<Arc<str>>,
}

/// Decides `original` for `api` (the metrics' label), counting the outcome.
pub(crate) fn decide(app: &App, api: &str, original: &Original<'_>) -> Gated {
    let gated = gate(app, api, original);
    let label = match &gated.verdict {
        Verdict::Allow { .. } => "allow",
        Verdict::Deny { .. } => "deny",
        Verdict::NoPrincipal(_) => "unauthenticated",
    };
    if let Verdict::Deny { why: Some(why), .. } = &gated.verdict {
        tracing::debug!("{api}: deny: {why}");
    }
    app.metrics.decided(api, label);
    gated
}

fn gate(app: &App, api: &str, original: &Original<'_>) -> Gated {
    let started = std::time::Instant::now();
    let refuse = |why: String, revision: Option<Arc<str>>| Gated {
        verdict: Verdict::Deny {
            why: Some(why),
            reasons: Vec::new(),
        },
        revision,
    };
    let Some(current) = app.current() else {
        return refuse("no engine yet".into(), None);
    };
    let Some(mapping) = current.mapping() else {
        return refuse(
            "no gateway mapping is configured (--forward-auth)".into(),
            None,
        );
    };
    let mut request = match mapping.map(original) {
        Mapped::Request(request) => *request,
        Mapped::NoPrincipal(why) => {
            return Gated {
                verdict: Verdict::NoPrincipal(why),
                revision: None,
            };
        }
        Mapped::Deny(why) => return refuse(why, None),
    };
    let engine = current.live.engine();
    let revision = Some(current.revision_of(&engine));
    if let Some(schema) = engine.schema().filter(|_| engine.validates_requests())
        && let Err(e) = request.validate(schema)
    {
        return refuse(
            format!("the mapped request is not valid for the schema: {e}"),
            revision,
        );
    }
    let response = match app.decide(&engine, &request) {
        Ok(response) => response,
        Err(e) => return refuse(format!("the mapped request is not valid: {e}"), revision),
    };
    app.log_decision(api, &engine, &request, &response, started);
    let reasons = response
        .reasons
        .iter()
        .map(|r| AsRef::<str>::as_ref(r).to_string())
        .collect();
    let verdict = match response.decision {
        Decision::Allow => Verdict::Allow { reasons },
        Decision::Deny => Verdict::Deny { why: None, reasons },
    };
    Gated { verdict, revision }
}
