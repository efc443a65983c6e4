//! Who is making the request: the session cookie, its stage, and the source address.

use crate::error::WebError;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use onramp_app::auth::{self, SessionInfo, Stage};
use onramp_app::Ctx;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "onramp_session";
/// Anonymous forms (sign-in, password reset) carry a token that must match this cookie.
pub const PRE_SESSION_COOKIE: &str = "onramp_pre";
/// The names the cookies take when Onramp is served over https: the `__Host-` prefix makes
/// browsers refuse them unless Secure, for this host only (no Domain) and for every path.
pub const HTTPS_SESSION_COOKIE: &str = "__Host-onramp_session";
pub const HTTPS_PRE_SESSION_COOKIE: &str = "__Host-onramp_pre";

impl AppState {
    /// Whether people reach Onramp over https (its base URL says so).
    pub fn https(&self) -> bool {
        self.app.config.base_url.starts_with("https://")
    }
    /// Whether cookies are marked Secure: always over https, or when the operator asks.
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies || self.https()
    }
    pub fn session_cookie_name(&self) -> &'static str {
        if self.https() {
            HTTPS_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }
    pub fn pre_session_cookie_name(&self) -> &'static str {
        if self.https() {
            HTTPS_PRE_SESSION_COOKIE
        } else {
            PRE_SESSION_COOKIE
        }
    }
}

/// The client's address: the socket's peer, or, when that peer is one of the trusted proxies
/// (`--trusted-proxies`), the right-most `X-Forwarded-For` address that is not itself a
/// trusted proxy. Rate limits, audit events and signature records all use this one address.
#[derive(Debug, Clone)]
pub struct SourceAddr(pub String);

impl SourceAddr {
    pub fn of(parts: &Parts, state: &AppState) -> SourceAddr {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return SourceAddr("unknown".into());
        };
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>();
        let client = state
            .app
            .config
            .trusted_proxies
            .client_addr(peer, forwarded.into_iter());
        SourceAddr(client.to_string())
    }
}

impl FromRequestParts<AppState> for SourceAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(SourceAddr::of(parts, state))
    }
}

/// The session, if the request carries a live one (at any stage).
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<SessionInfo>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = WebError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(s) = parts.extensions.get::<MaybeSession>() {
            return Ok(s.clone());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let s = match jar.get(state.session_cookie_name()) {
            Some(c) => {
                let SourceAddr(source) = SourceAddr::of(parts, state);
                auth::session(&state.app, c.value(), &source).await?
            }
            None => None,
        };
        let m = MaybeSession(s);
        parts.extensions.insert(m.clone());
        Ok(m)
    }
}

/// A fully signed-in person. Anyone else is sent to the step they still owe.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: SessionInfo,
    pub ctx: Ctx,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeSession(s) = MaybeSession::from_request_parts(parts, state).await?;
        let SourceAddr(source) = SourceAddr::of(parts, state);
        let Some(session) = s else {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            return Err(WebError::Redirect(format!(
                "/signin?next={}",
                urlencode(next)
            )));
        };
        match session.stage {
            Stage::Active => {}
            other => return Err(WebError::Redirect(stage_path(other).into())),
        }
        let ctx = Ctx::new(session.actor.clone(), source);
        Ok(Viewer { session, ctx })
    }
}

/// A session at any stage (for the pages that complete sign-in).
#[derive(Debug, Clone)]
pub struct PartialViewer {
    pub session: SessionInfo,
    pub ctx: Ctx,
}

impl FromRequestParts<AppState> for PartialViewer {
    type Rejection = WebError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeSession(s) = MaybeSession::from_request_parts(parts, state).await?;
        let SourceAddr(source) = SourceAddr::of(parts, state);
        let session = s.ok_or_else(|| WebError::Redirect("/signin".into()))?;
        let ctx = Ctx::new(session.actor.clone(), source);
        Ok(PartialViewer { session, ctx })
    }
}

/// Where a session at a stage must go next.
pub fn stage_path(stage: Stage) -> &'static str {
    match stage {
        Stage::Mfa => "/signin/mfa",
        Stage::MfaEnrol => "/account/mfa",
        Stage::PasswordChange => "/account/password",
        Stage::Active => "/",
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, Path=/, never a Domain.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((state.session_cookie_name(), token))
        .path("/")
        .http_only(true)
        .secure(state.cookies_secure())
        .same_site(SameSite::Lax)
        .build()
}

/// The pre-session cookie of anonymous forms: HttpOnly, SameSite=Strict, Path=/.
pub fn pre_session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build((state.pre_session_cookie_name(), token))
        .path("/")
        .http_only(true)
        .secure(state.cookies_secure())
        .same_site(SameSite::Strict)
        .build()
}

pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build((name, "")).path("/").build();
    c.make_removal();
    c
}

pub fn urlencode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Where to go after sign-in (or any other redirect to a path the caller chose): the path
/// itself only when it stays on this site, else `/`.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_local_path(n))
        .map(str::to_string)
        .unwrap_or_else(|| "/".into())
}

/// A path on this site, as a browser would read it: starts with a single `/`, and neither it
/// nor its percent-decoded path holds a control character, whitespace, a backslash (which
/// browsers read as `/`), `//` or a scheme. Anything a browser could take for another origin
/// is refused rather than repaired.
pub fn is_local_path(path: &str) -> bool {
    const MAX: usize = 2048;
    if path.len() > MAX {
        return false;
    }
    let path_part = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    let decoded = percent_decode(path_part);
    [path, decoded.as_str()].iter().all(|p| {
        p.starts_with('/')
            && !p.contains("//")
            && !p.contains('\\')
            && !p.chars().any(|c| c.is_control() || c.is_whitespace())
            && !has_scheme(p)
    })
}

/// Whether the part before the first `/`, `?` or `#` looks like `scheme:`.
fn has_scheme(p: &str) -> bool {
    let head = p.trim_start_matches('/');
    let end = head.find(['/', '?', '#']).unwrap_or(head.len());
    head[..end].contains(':')
}

/// Decodes `%XX` escapes (repeatedly, so that double encoding cannot hide anything); bytes
/// that do not form UTF-8 become U+FFFD.
fn percent_decode(s: &str) -> String {
    let mut current = s.to_string();
    for _ in 0..4 {
        let bytes = current.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        let next = String::from_utf8_lossy(&out).into_owned();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for ok in [
            "/",
            "/admin/agencies?show=active",
            "/admin/people/12#roles",
            "/requests?q=a%20b",
            "/a/b:c",
            "/search?q=a%2Fb",
        ] {
            assert_eq!(safe_next(Some(ok)), ok, "{ok}");
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_falls_back_to_home() {
        for evil in [
            "/\t/evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "/%2F/evil.example",
            "/%252F%252Fevil.example",
            "/%09/evil.example",
            "/ /evil.example",
            "/\n/evil.example",
            "/%0D%0ALocation:%20https://evil.example",
            "/%E3%80%80/evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/javascript:alert(1)",
            "evil.example",
            "",
            "\\\\evil.example",
            "/x//evil.example",
            "/\u{0}evil",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }
}
