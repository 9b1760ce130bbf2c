//! Principals from JSON Web Tokens: a gateway mapping may name the principal by a claim of a
//! signed token instead of a plain header.
//!
//! ```json
//! "principal": {"type": "TinyTodo::User",
//!               "jwt": {"header": "Authorization", "claim": "sub", "algorithm": "ES256",
//!                       "key_file": "jwt-public.pem", "issuer": "https://idp.example",
//!                       "audience": "todo"}}
//! ```
//!
//! - `header` (default `Authorization`) holds the token, with or without a `Bearer ` prefix.
//! - `algorithm`: `HS256`/`HS384`/`HS512` with `secret_file` (the shared secret's bytes), or
//!   `RS*`, `PS*`, `ES256`/`ES384`, `EdDSA` with `key_file` (the public key, PEM). Relative
//!   paths are read from the mapping file's folder, when the mapping is (re)loaded.
//! - The signature must verify with that algorithm and key (a token naming another algorithm
//!   is refused); `exp` is required and checked, `nbf` checked when present, both with
//!   `leeway_seconds` (default 60); `issuer` and `audience`, when given, must match `iss` and
//!   `aud`.
//! - `claim` (default `sub`) must be a string: the principal's id.
//!
//! A missing, malformed, expired or unverifiable token, or one without the claim, means no
//! principal: forward auth answers 401 and ext_authz `UNAUTHENTICATED`.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// The `jwt` object of a mapping's `principal`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JwtFile {
    #[serde(default = "default_header")]
    header: String,
    #[serde(default = "default_claim")]
    claim: String,
    algorithm: String,
    #[serde(default)]
    key_file: Option<String>,
    #[serde(default)]
    secret_file: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default = "default_leeway")]
    leeway_seconds: u64,
}

fn default_header() -> String {
    "Authorization".to_string()
}

fn default_claim() -> String {
    "sub".to_string()
}

fn default_leeway() -> u64 {
    60
}

/// A checked token verifier: where the token is, how it is verified, which claim names the
/// principal.
#[derive(Clone)]
pub(crate) struct JwtPrincipal {
    header: String,
    claim: String,
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtPrincipal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtPrincipal")
            .field("header", &self.header)
            .field("claim", &self.claim)
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl JwtPrincipal {
    /// Checks `file` and reads its key, relative paths from `base`.
    pub fn new(file: JwtFile, base: &Path) -> Result<Self, String> {
        let algorithm: Algorithm = file.algorithm.parse().map_err(|_| {
            format!(
                "`jwt.algorithm` `{}` is not a JWT algorithm (HS256, RS256, ES256, EdDSA, ...)",
                file.algorithm
            )
        })?;
        let read = |name: &str, what: &str| {
            let path = base.join(name);
            std::fs::read(&path)
                .map_err(|e| format!("`jwt.{what}`: cannot read {}: {e}", path.display()))
        };
        let pem = |what: &str| -> Result<Vec<u8>, String> {
            match &file.key_file {
                Some(name) => read(name, "key_file"),
                None => Err(format!(
                    "`jwt.algorithm` {what} needs `key_file` (a PEM public key)"
                )),
            }
        };
        let bad_key = |e: jsonwebtoken::errors::Error| format!("`jwt.key_file`: {e}");
        let key = match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => match &file.secret_file {
                Some(name) => DecodingKey::from_secret(&read(name, "secret_file")?),
                None => {
                    return Err(format!(
                        "`jwt.algorithm` {} needs `secret_file` (the shared secret)",
                        file.algorithm
                    ));
                }
            },
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                DecodingKey::from_rsa_pem(&pem(&file.algorithm)?).map_err(bad_key)?
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                DecodingKey::from_ec_pem(&pem(&file.algorithm)?).map_err(bad_key)?
            }
            Algorithm::EdDSA => {
                DecodingKey::from_ed_pem(&pem(&file.algorithm)?).map_err(bad_key)?
            }
        };
        if file.header.is_empty() || file.claim.is_empty() {
            return Err("`jwt.header` and `jwt.claim` must not be empty".into());
        }
        let mut validation = Validation::new(algorithm);
        validation.leeway = file.leeway_seconds;
        validation.validate_nbf = true;
        match &file.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &file.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(JwtPrincipal {
            header: file.header,
            claim: file.claim,
            key,
            validation,
        })
    }

    /// The principal's id from the request's token, or why there is none.
    pub fn id(&self, header: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
        let value = header(&self.header)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("no token in `{}`", self.header))?;
        let value = value.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(
            token,
            &self.key,
            &self.validation,
        )
        .map_err(|e| format!("the token is not valid: {e}"))?;
        match data.claims.get(&self.claim) {
            Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
            Some(_) => Err(format!(
                "the token's `{}` claim is not a string",
                self.claim
            )),
            None => Err(format!("the token has no `{}` claim", self.claim)),
        }
    }
}
