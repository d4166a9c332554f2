//! Per-client rate limit on report submission: a token bucket per client address, refilled
//! at the configured rate. Over the limit the client gets 429 with `Retry-After`, worded in
//! its language. The table is bounded: full buckets are forgotten when it grows large.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::request_lang;
use crate::error::{ApiError, Localized};

/// Clients tracked before full buckets are dropped.
const MAX_TRACKED: usize = 100_000;

/// The limiter shared by all requests.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    trust_forwarded_for: bool,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` requests per client address, bursting up to the same number.
    pub fn new(per_minute: u32, trust_forwarded_for: bool) -> RateLimiter {
        RateLimiter { per_minute: f64::from(per_minute.max(1)), trust_forwarded_for, buckets: Mutex::default() }
    }

    /// Takes a token for `client`, or says how many seconds until one is free.
    pub fn take(&self, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let rate = self.per_minute / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let per_minute = self.per_minute;
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < per_minute);
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.per_minute, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(self.per_minute);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil() as u64)
        }
    }

    fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            let forwarded = headers.get("x-forwarded-for").and_then(|value| value.to_str().ok()).and_then(|value| value.rsplit(',').next()).and_then(|last| last.trim().parse().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        peer.map(|peer| peer.ip())
    }
}

/// Middleware: refuses a request over its client's limit.
pub async fn limit(State(limiter): State<Arc<RateLimiter>>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    if let Some(client) = limiter.client(request.headers(), peer) {
        if let Err(retry_after) = limiter.take(client) {
            let lang = request_lang(request.headers());
            let mut response = Localized(ApiError::RateLimited { retry_after }, lang).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return response;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_asks_to_wait() {
        let limiter = RateLimiter::new(3, false);
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(limiter.take(client).is_ok() && limiter.take(client).is_ok() && limiter.take(client).is_ok());
        let wait = limiter.take(client).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.take("203.0.113.8".parse().unwrap()).is_ok(), "other clients are not affected");
    }
}
