//! Per-client rate limits: a token bucket per client network, refilled at the configured
//! rate — one limiter for report submissions (which also bounds the uploads a client has
//! under way at once), one for the reads that reveal something of stored reports (status by
//! tracking number, the nearby count), so neither can be guessed or bisected at speed. Over the limit the client gets 429 with `Retry-After`, worded in
//! its language. The table is bounded: full buckets are forgotten when it grows large.
//!
//! A client is its IPv4 address or its IPv6 /64 (one subscriber's prefix: a phone or a home
//! router hands out any address in it). Behind a trusted proxy it is the address that proxy
//! appended to `X-Forwarded-For`: the last value across every such header, since whatever
//! comes before it was written by the client. The middleware leaves the client's network on
//! the request as a [`ClientNetwork`] for the handler.
//!
//! The bucket is written here rather than taken from `governor`: what matters is the keying
//! (the /64, the proxy-appended address) and the count of uploads under way, which
//! `governor` leaves to the caller anyway; its keyed limiter would add `dashmap`, `quanta`
//! and their dependencies for the twenty lines of arithmetic below.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::request_lang;
use crate::error::{ApiError, WordedError};

/// Clients tracked before full buckets are dropped.
const MAX_TRACKED: usize = 100_000;

/// The limiter shared by all requests.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    trust_forwarded_for: bool,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    /// Requests of one client under way at once; `None`: not counted (reads).
    uploads_per_client: Option<u32>,
    uploading: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// Seconds a client uploading too many reports at once is asked to wait.
const BUSY_RETRY_SECS: u64 = 5;

impl RateLimiter {
    /// `per_minute` requests per client network, bursting up to the same number, and at
    /// most `uploads_per_client` at the same time when that is given.
    pub fn new(per_minute: u32, uploads_per_client: Option<u32>, trust_forwarded_for: bool) -> RateLimiter {
        RateLimiter {
            per_minute: f64::from(per_minute.max(1)),
            trust_forwarded_for,
            buckets: Mutex::default(),
            uploads_per_client: uploads_per_client.map(|most| most.max(1)),
            uploading: Arc::default(),
        }
    }

    /// Counts one more upload of `client` until the returned guard is dropped; `Err` when
    /// the client already has `uploads_per_client` under way. Nothing is counted when this
    /// limiter does not limit uploads.
    fn start_upload(&self, client: IpAddr) -> Result<Option<Uploading>, ()> {
        let Some(most) = self.uploads_per_client else { return Ok(None) };
        let mut uploading = self.uploading.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = uploading.entry(client).or_insert(0);
        if *count >= most {
            return Err(());
        }
        *count += 1;
        Ok(Some(Uploading { client, uploading: self.uploading.clone() }))
    }

    /// Takes a token for `client` (a network from [`ClientNetwork::of`]), or says how many
    /// seconds until one is free.
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

    fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<ClientNetwork> {
        let forwarded = self.trust_forwarded_for.then(|| last_forwarded_for(headers)).flatten();
        forwarded.or(peer.map(|peer| peer.ip())).map(ClientNetwork::of)
    }
}

/// One upload under way, counted against its client until dropped.
struct Uploading {
    client: IpAddr,
    uploading: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Drop for Uploading {
    fn drop(&mut self) {
        let mut uploading = self.uploading.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = uploading.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                uploading.remove(&self.client);
            }
        }
    }
}

/// The address the nearest proxy appended: the last value of the last `X-Forwarded-For`
/// header. Values before it (in that header or in earlier ones) came from the client.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).flat_map(|value| value.split(',')).map(str::trim).rfind(|value| !value.is_empty())?;
    last.parse().ok()
}

/// The network a request came from, as rate limits and "is it the same sender?" count it:
/// an IPv4 address, or the /64 an IPv6 address is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientNetwork(pub IpAddr);

impl ClientNetwork {
    /// The network of `address` (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn of(address: IpAddr) -> ClientNetwork {
        match address {
            IpAddr::V4(v4) => ClientNetwork(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientNetwork(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    ClientNetwork(IpAddr::V6(prefix.into()))
                }
            },
        }
    }
}

impl std::fmt::Display for ClientNetwork {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(formatter, "{v4}"),
            IpAddr::V6(v6) => write!(formatter, "{v6}/64"),
        }
    }
}

/// Middleware: refuses a request over its client's limit, and leaves the client's network
/// on the request for the handler.
pub async fn limit(State(limiter): State<Arc<RateLimiter>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    let Some(client) = limiter.client(request.headers(), peer) else { return next.run(request).await };
    let lang = request_lang(request.headers());
    let refuse = |retry_after: u64| {
        let mut response = WordedError(ApiError::RateLimited { retry_after }, lang).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        response
    };
    let Ok(_uploading) = limiter.start_upload(client.0) else { return refuse(BUSY_RETRY_SECS) };
    if let Err(retry_after) = limiter.take(client.0) {
        return refuse(retry_after);
    }
    request.extensions_mut().insert(client);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_asks_to_wait() {
        let limiter = RateLimiter::new(3, Some(4), false);
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        assert!(limiter.take(client).is_ok() && limiter.take(client).is_ok() && limiter.take(client).is_ok());
        let wait = limiter.take(client).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.take("203.0.113.8".parse().unwrap()).is_ok(), "other clients are not affected");
    }

    #[test]
    fn a_client_has_at_most_its_number_of_uploads_under_way() {
        let limiter = RateLimiter::new(30, Some(2), false);
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let first = limiter.start_upload(client).unwrap();
        let _second = limiter.start_upload(client).unwrap();
        assert!(limiter.start_upload(client).is_err());
        assert!(limiter.start_upload("203.0.113.8".parse().unwrap()).is_ok(), "others are not affected");
        drop(first);
        assert!(limiter.start_upload(client).is_ok(), "a finished upload frees its place");
        let reads = RateLimiter::new(30, None, false);
        let held: Vec<_> = (0..10).map(|_| reads.start_upload(client).unwrap()).collect();
        assert!(held.iter().all(Option::is_none), "reads are not counted");
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64_and_a_mapped_ipv4_is_its_ipv4() {
        let network = |text: &str| ClientNetwork::of(text.parse().unwrap());
        assert_eq!(network("2001:db8:1:2:aaaa::1"), network("2001:db8:1:2:ffff::9"));
        assert_ne!(network("2001:db8:1:2::1"), network("2001:db8:1:3::1"));
        assert_eq!(network("2001:db8:1:2:aaaa::1").to_string(), "2001:db8:1:2::/64");
        assert_eq!(network("::ffff:203.0.113.7"), network("203.0.113.7"));
    }

    #[test]
    fn behind_a_proxy_the_client_is_what_the_proxy_appended_last() {
        let limiter = RateLimiter::new(3, Some(4), true);
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", HeaderValue::from_static("198.51.100.1, 198.51.100.2"));
        headers.append("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        assert_eq!(limiter.client(&headers, None), Some(ClientNetwork("203.0.113.9".parse().unwrap())));
        let untrusting = RateLimiter::new(3, Some(4), false);
        assert_eq!(untrusting.client(&headers, Some("192.0.2.1:5000".parse().unwrap())), Some(ClientNetwork("192.0.2.1".parse().unwrap())));
    }
}
