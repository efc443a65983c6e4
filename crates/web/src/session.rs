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

/// The client's address as the socket saw it.
#[derive(Debug, Clone)]
pub struct SourceAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SourceAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SourceAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
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
        let s = match jar.get(SESSION_COOKIE) {
            Some(c) => auth::session(&state.app, c.value()).await?,
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
        let source = SourceAddr::from_request_parts(parts, state)
            .await
            .map(|s| s.0)
            .unwrap_or_default();
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
        let source = SourceAddr::from_request_parts(parts, state)
            .await
            .map(|s| s.0)
            .unwrap_or_default();
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

pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
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

/// Only same-site paths may be redirected to after sign-in.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/".into(),
    }
}
