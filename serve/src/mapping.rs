//! The forward-auth mapping file: how a gateway's HTTP request becomes a Cedar request.
//!
//! ```json
//! {
//!   "principal": {"header": "X-User", "type": "TinyTodo::User"},
//!   "action_type": "TinyTodo::Action",
//!   "method_actions": {"GET": "GetList"},
//!   "routes": [
//!     {"methods": ["GET"], "path": "/lists/{list}", "action": "GetList",
//!      "resource": {"type": "TinyTodo::List", "id": "{list}"}},
//!     {"methods": ["POST"], "path": "/lists", "action": "CreateList",
//!      "resource": {"type": "TinyTodo::Application", "id": "TinyTodo"}}
//!   ],
//!   "context": {"ip": "source_ip"},
//!   "source_ip_header": "X-Real-IP"
//! }
//! ```
//!
//! - `principal`: the entity type, and either `header`, the request header holding its id, or
//!   `jwt`, a signed token one of whose claims is its id (see [`jwt`](crate::jwt)). No header
//!   (or an empty one), or no valid token: 401.
//! - `routes`, tried in order, the first match wins: `methods` (any when absent), `path` a
//!   pattern of `/`-separated segments where `{name}` captures one segment and a last `{name*}`
//!   the rest; `action` the action's id (when absent, `method_actions[method]`); `resource` the
//!   type and an id template in which `{name}` is replaced by the captured (percent-decoded)
//!   segment; `context` (optional) the route's own context attributes, replacing the mapping's
//!   (for actions whose context type differs). No route matching: deny.
//! - `action_type`: the actions' entity type (`Action` by default).
//! - `context`: attribute name → source, one of `method`, `path`, `host`, `source_ip` (an
//!   `ipaddr` extension value) or `header:NAME`. Absent: `{"method": "method", "path": "path",
//!   "host": "host", "ip": "source_ip"}`. A header source that is missing leaves its attribute
//!   out; a `source_ip` that cannot be found or parsed denies (fail closed).
//! - `source_ip_header`: where the client address is (e.g. `X-Real-IP` set by nginx, or
//!   `X-Forwarded-For`, whose last entry is taken); absent: the connection's peer address.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use thuja::{EntityType, EntityUid, Record, Value};

use crate::jwt::{JwtFile, JwtPrincipal};

/// A mapping file, checked.
#[derive(Clone, Debug)]
pub struct Mapping {
    principal_type: EntityType,
    principal: PrincipalSource,
    action_type: EntityType,
    method_actions: BTreeMap<String, String>,
    routes: Vec<Route>,
    context: Vec<(String, Source)>,
    source_ip_header: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    principal: PrincipalFile,
    #[serde(default)]
    action_type: Option<String>,
    #[serde(default)]
    method_actions: BTreeMap<String, String>,
    #[serde(default)]
    routes: Vec<RouteFile>,
    #[serde(default)]
    context: Option<BTreeMap<String, String>>,
    #[serde(default)]
    source_ip_header: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalFile {
    #[serde(default)]
    header: Option<String>,
    #[serde(default)]
    jwt: Option<JwtFile>,
    #[serde(rename = "type")]
    ty: String,
}

/// Where the principal's id is.
#[derive(Clone, Debug)]
enum PrincipalSource {
    /// A header set by the gateway (which authenticated the client).
    Header(String),
    /// A claim of a signed token.
    Jwt(Box<JwtPrincipal>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    #[serde(default)]
    methods: Option<Vec<String>>,
    path: String,
    #[serde(default)]
    action: Option<String>,
    resource: ResourceFile,
    #[serde(default)]
    context: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceFile {
    #[serde(rename = "type")]
    ty: String,
    id: String,
}

#[derive(Clone, Debug)]
struct Route {
    methods: Option<Vec<String>>,
    pattern: Vec<Segment>,
    action: Option<String>,
    resource_type: EntityType,
    resource_id: String,
    /// The route's own context attributes, replacing the mapping's.
    context: Option<Vec<(String, Source)>>,
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Literal(String),
    Capture(String),
    Rest(String),
}

/// Where a context attribute's value comes from.
#[derive(Clone, Debug, PartialEq)]
enum Source {
    Method,
    Path,
    Host,
    ClientIp,
    Header(String),
}

/// The parts of the original HTTP request a mapping reads.
pub struct Original<'a> {
    pub method: &'a str,
    /// The path and query, as the client sent it.
    pub uri: &'a str,
    pub host: &'a str,
    /// Header lookup (case-insensitive names).
    pub header: &'a dyn Fn(&str) -> Option<String>,
    /// The connection's peer address.
    pub peer_ip: Option<std::net::IpAddr>,
}

/// What a gateway request maps to.
#[derive(Debug)]
pub enum Mapped {
    /// A Cedar request to decide.
    Request(Box<thuja::Request>),
    /// No principal could be found (401), and why.
    NoPrincipal(String),
    /// Nothing to decide: deny (no route matches, a value is malformed), and why.
    Deny(String),
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        Self::from_json_in(&text, base).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads and checks a mapping from its JSON text; files it names (token keys) are read
    /// from the current folder when relative.
    pub fn from_json(text: &str) -> Result<Self, String> {
        Self::from_json_in(text, Path::new("."))
    }

    /// Reads and checks a mapping from its JSON text; files it names are read from `base` when
    /// relative (the mapping file's folder).
    pub fn from_json_in(text: &str, base: &Path) -> Result<Self, String> {
        let file: MappingFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let ty = |t: &str| {
            EntityType::parse(t).map_err(|e| format!("`{t}` is not a Cedar entity type name: {e}"))
        };
        let routes = file
            .routes
            .into_iter()
            .map(|r| {
                Ok(Route {
                    methods: r
                        .methods
                        .map(|ms| ms.iter().map(|m| m.to_ascii_uppercase()).collect()),
                    pattern: pattern(&r.path)?,
                    action: r.action,
                    resource_type: ty(&r.resource.ty)?,
                    resource_id: r.resource.id,
                    context: r.context.map(context_of).transpose()?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let context = match file.context {
            None => vec![
                ("method".to_string(), Source::Method),
                ("path".to_string(), Source::Path),
                ("host".to_string(), Source::Host),
                ("ip".to_string(), Source::ClientIp),
            ],
            Some(map) => context_of(map)?,
        };
        let principal = match (file.principal.header, file.principal.jwt) {
            (Some(header), None) if !header.is_empty() => PrincipalSource::Header(header),
            (None, Some(jwt)) => PrincipalSource::Jwt(Box::new(JwtPrincipal::new(jwt, base)?)),
            (Some(_), Some(_)) => {
                return Err("`principal` takes `header` or `jwt`, not both".into());
            }
            _ => return Err("`principal.header` must name a header (or give `jwt`)".into()),
        };
        Ok(Mapping {
            principal_type: ty(&file.principal.ty)?,
            principal,
            action_type: ty(file.action_type.as_deref().unwrap_or("Action"))?,
            method_actions: file
                .method_actions
                .into_iter()
                .map(|(m, a)| (m.to_ascii_uppercase(), a))
                .collect(),
            routes,
            context,
            source_ip_header: file.source_ip_header,
        })
    }

    /// Maps a gateway request to a Cedar request.
    pub fn map(&self, original: &Original<'_>) -> Mapped {
        let id = match &self.principal {
            PrincipalSource::Header(name) => match (original.header)(name) {
                Some(id) if !id.is_empty() => id,
                _ => return Mapped::NoPrincipal(format!("no `{name}` header")),
            },
            PrincipalSource::Jwt(jwt) => match jwt.id(original.header) {
                Ok(id) => id,
                Err(why) => return Mapped::NoPrincipal(why),
            },
        };
        let principal = EntityUid::new(self.principal_type.clone(), id.as_str());
        let method = original.method.to_ascii_uppercase();
        let path = original.uri.split(['?', '#']).next().unwrap_or_default();
        let Some(segments) = segments(path) else {
            return Mapped::Deny(format!(
                "the path `{path}` is not a normalized absolute path"
            ));
        };
        let Some((route, captures)) = self.routes.iter().find_map(|route| {
            let method_ok = route.methods.as_ref().is_none_or(|ms| ms.contains(&method));
            method_ok
                .then(|| matches(&route.pattern, &segments))
                .flatten()
                .map(|c| (route, c))
        }) else {
            return Mapped::Deny(format!("no route matches {method} {path}"));
        };
        let Some(action) = route
            .action
            .as_ref()
            .or_else(|| self.method_actions.get(&method))
        else {
            return Mapped::Deny(format!("no action for {method} {path}"));
        };
        let resource_id = fill(&route.resource_id, &captures);
        let mut context = Vec::new();
        for (name, source) in route.context.as_ref().unwrap_or(&self.context) {
            let value = match source {
                Source::Method => Value::string(method.as_str()),
                Source::Path => Value::string(path),
                Source::Host => Value::string(original.host),
                Source::Header(header) => match (original.header)(header) {
                    Some(v) => Value::string(v),
                    None => continue,
                },
                Source::ClientIp => match self.source_ip(original) {
                    Ok(ip) => ip,
                    Err(e) => return Mapped::Deny(e),
                },
            };
            context.push((name.as_str(), value));
        }
        let context: Record = context.into_iter().collect();
        Mapped::Request(Box::new(thuja::Request::new(
            principal,
            EntityUid::new(self.action_type.clone(), action.as_str()),
            EntityUid::new(route.resource_type.clone(), resource_id.as_str()),
            context,
        )))
    }

    fn source_ip(&self, original: &Original<'_>) -> Result<Value, String> {
        let text = match &self.source_ip_header {
            Some(header) => {
                let value = (original.header)(header)
                    .ok_or_else(|| format!("no `{header}` header for the source address"))?;
                value
                    .rsplit(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            }
            None => original
                .peer_ip
                .map(|ip| ip.to_string())
                .ok_or_else(|| "the connection has no peer address".to_string())?,
        };
        // Only addresses: a range such as 10.0.0.0/8 is not a client address.
        let ip: std::net::IpAddr = text
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address"))?;
        Value::ipaddr(&ip.to_string()).map_err(|e| format!("`{text}`: {e}"))
    }
}

fn context_of(map: BTreeMap<String, String>) -> Result<Vec<(String, Source)>, String> {
    map.into_iter()
        .map(|(name, source)| Ok((name, source_of(&source)?)))
        .collect()
}

fn source_of(text: &str) -> Result<Source, String> {
    Ok(match text {
        "method" => Source::Method,
        "path" => Source::Path,
        "host" => Source::Host,
        "source_ip" => Source::ClientIp,
        _ => match text.strip_prefix("header:") {
            Some(name) if !name.is_empty() => Source::Header(name.to_string()),
            _ => {
                return Err(format!(
                    "unknown context source `{text}` (expected method, path, host, source_ip or header:NAME)"
                ));
            }
        },
    })
}

fn pattern(path: &str) -> Result<Vec<Segment>, String> {
    if !path.starts_with('/') {
        return Err(format!("route path `{path}` must start with `/`"));
    }
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = parts.len().saturating_sub(1);
    parts
        .iter()
        .enumerate()
        .map(
            |(i, part)| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if name.ends_with('*') => {
                    if i == last {
                        Ok(Segment::Rest(name.trim_end_matches('*').to_string()))
                    } else {
                        Err(format!(
                            "in `{path}`, `{{{name}}}` must be the last segment"
                        ))
                    }
                }
                Some(name) if !name.is_empty() => Ok(Segment::Capture(name.to_string())),
                _ => Ok(Segment::Literal((*part).to_string())),
            },
        )
        .collect()
}

/// A path's segments, percent-decoded; `None` for a path that is not absolute, has `.` or `..`
/// segments, or decodes to something that is not UTF-8.
fn segments(path: &str) -> Option<Vec<String>> {
    if !path.starts_with('/') {
        return None;
    }
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let decoded = percent_decode(s)?;
            (decoded != "." && decoded != "..").then_some(decoded)
        })
        .collect()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn matches(pattern: &[Segment], segments: &[String]) -> Option<Vec<(String, String)>> {
    let mut captures = Vec::new();
    for (i, part) in pattern.iter().enumerate() {
        match part {
            Segment::Rest(name) => {
                let rest = segments.get(i..).filter(|r| !r.is_empty())?;
                captures.push((name.clone(), rest.join("/")));
                return Some(captures);
            }
            Segment::Literal(literal) => {
                if segments.get(i)? != literal {
                    return None;
                }
            }
            Segment::Capture(name) => captures.push((name.clone(), segments.get(i)?.clone())),
        }
    }
    (segments.len() == pattern.len()).then_some(captures)
}

fn fill(template: &str, captures: &[(String, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in captures {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"{
        "principal": {"header": "X-User", "type": "App::User"},
        "action_type": "App::Action",
        "method_actions": {"get": "read"},
        "routes": [
            {"methods": ["POST"], "path": "/docs", "action": "create", "resource": {"type": "App::Folder", "id": "root"}},
            {"path": "/docs/{doc}", "resource": {"type": "App::Doc", "id": "{doc}"}},
            {"path": "/files/{rest*}", "action": "read", "resource": {"type": "App::File", "id": "{rest}"}}
        ],
        "context": {"m": "method", "ip": "source_ip", "tenant": "header:X-Tenant"}
    }"#;

    fn original<'a>(
        method: &'a str,
        uri: &'a str,
        header: &'a dyn Fn(&str) -> Option<String>,
    ) -> Original<'a> {
        Original {
            method,
            uri,
            host: "example.test",
            header,
            peer_ip: Some([127, 0, 0, 1].into()),
        }
    }

    fn request(mapped: Mapped) -> thuja::Request {
        match mapped {
            Mapped::Request(r) => *r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn routes_map_to_requests() {
        let mapping = Mapping::from_json(MAPPING).expect("mapping");
        let headers = |h: &str| (h == "X-User").then(|| "alice".to_string());
        let r = request(mapping.map(&original("get", "/docs/a%20b?x=1", &headers)));
        assert_eq!(r.principal().to_string(), r#"App::User::"alice""#);
        assert_eq!(r.action().to_string(), r#"App::Action::"read""#);
        assert_eq!(r.resource().to_string(), r#"App::Doc::"a b""#);
        assert_eq!(r.context().get("m"), Some(&Value::string("GET")));
        assert!(r.context().get("ip").is_some());
        // A missing header source leaves its attribute out.
        assert!(r.context().get("tenant").is_none());
        let r = request(mapping.map(&original("GET", "/files/x/y.txt", &headers)));
        assert_eq!(r.resource().to_string(), r#"App::File::"x/y.txt""#);
        let r = request(mapping.map(&original("POST", "/docs", &headers)));
        assert_eq!(r.action().to_string(), r#"App::Action::"create""#);
    }

    #[test]
    fn missing_principal_unmatched_routes_and_odd_paths() {
        let mapping = Mapping::from_json(MAPPING).expect("mapping");
        let nobody = |_: &str| None;
        assert!(matches!(
            mapping.map(&original("GET", "/docs/a", &nobody)),
            Mapped::NoPrincipal(_)
        ));
        let alice = |h: &str| (h == "X-User").then(|| "alice".to_string());
        for (method, uri) in [
            ("GET", "/other"),
            ("DELETE", "/docs/a"),
            ("GET", "/docs/../admin"),
            ("GET", "/docs/%2e%2e"),
            ("GET", "/docs/%zz"),
            ("GET", "docs/a"),
            ("GET", "/files"),
        ] {
            assert!(
                matches!(mapping.map(&original(method, uri, &alice)), Mapped::Deny(_)),
                "{method} {uri}"
            );
        }
    }

    #[test]
    fn a_source_address_that_cannot_be_read_denies() {
        let mapping = Mapping::from_json(
            r#"{"principal": {"header": "X-User", "type": "User"}, "source_ip_header": "X-Real-IP",
                "routes": [{"path": "/", "action": "a", "resource": {"type": "R", "id": "r"}}]}"#,
        )
        .expect("mapping");
        let headers = |h: &str| match h {
            "X-User" => Some("alice".to_string()),
            "X-Real-IP" => Some("not-an-ip".to_string()),
            _ => None,
        };
        assert!(matches!(
            mapping.map(&original("GET", "/", &headers)),
            Mapped::Deny(_)
        ));
        let headers = |h: &str| match h {
            "X-User" => Some("alice".to_string()),
            "X-Real-IP" => Some("192.0.2.1, 10.1.2.3".to_string()),
            _ => None,
        };
        let r = request(mapping.map(&original("GET", "/", &headers)));
        assert_eq!(
            r.context().get("ip"),
            Some(&Value::ipaddr("10.1.2.3").expect("ip"))
        );
    }

    #[test]
    fn bad_mapping_files_are_refused() {
        for bad in [
            "{}",
            r#"{"principal": {"header": "", "type": "User"}}"#,
            r#"{"principal": {"header": "X", "type": "not a type"}}"#,
            r#"{"principal": {"header": "X", "type": "User"}, "context": {"a": "body"}}"#,
            r#"{"principal": {"header": "X", "type": "User"}, "routes": [{"path": "/{a*}/b", "resource": {"type": "R", "id": "x"}}]}"#,
            r#"{"principal": {"header": "X", "type": "User"}, "routes": [{"path": "a", "resource": {"type": "R", "id": "x"}}]}"#,
            r#"{"principal": {"header": "X", "type": "User"}, "extra": 1}"#,
        ] {
            assert!(Mapping::from_json(bad).is_err(), "{bad}");
        }
    }
}
