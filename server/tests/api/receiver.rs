//! A real HTTP receiver standing in for the city's ticket pipeline: it answers deliveries
//! as scripted (errors, hangs, acceptance), can go down and come back on the same port,
//! verifies signatures, and keeps one ticket per idempotency key as a real pipeline must.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What the receiver does with the next delivery.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Answer with this status.
    Status(u16),
    /// Answer 503 asking to wait this many seconds.
    RetryAfter(u64),
    /// Never answer.
    Hang,
    /// Keep the ticket, then never answer (the sender dies before it hears back).
    AcceptThenHang,
}

/// One delivery attempt as received.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub key: String,
    pub at: Instant,
    pub signature_ok: bool,
    /// The scripted answer it got; `None` when accepted.
    pub answer: Option<Behaviour>,
    /// Its signature headers, as sent.
    pub webhook_headers: Vec<(String, String)>,
    /// Its body, as sent.
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Behaviour>,
    attempts: Vec<Attempt>,
    tickets: HashMap<String, (String, Value)>,
    accepted_per_key: HashMap<String, usize>,
}

/// The receiver.
pub struct Receiver {
    pub url: String,
    address: std::net::SocketAddr,
    secret: String,
    inner: Arc<Mutex<Inner>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Starts a receiver that verifies signatures with `secret` and follows `script`, then
    /// accepts everything.
    pub async fn start(secret: &str, script: Vec<Behaviour>) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner { script: script.into(), ..Inner::default() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut receiver = Receiver { url: format!("http://{address}/tickets"), address, secret: secret.to_owned(), inner, task: None };
        receiver.serve(listener);
        receiver
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = axum::Router::new().route("/tickets", axum::routing::post(receive)).with_state((self.inner.clone(), self.secret.clone()));
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    /// Goes down: the port refuses connections.
    pub fn go_down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Comes back on the same port.
    pub async fn come_back(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.address).await.expect("the port is free again");
        self.serve(listener);
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.inner.lock().unwrap().attempts.clone()
    }

    /// Tickets by idempotency key, with the delivered body.
    pub fn tickets(&self) -> HashMap<String, Value> {
        self.inner.lock().unwrap().tickets.iter().map(|(key, (_, body))| (key.clone(), body.clone())).collect()
    }

    /// How often each key was answered with a new ticket (must be once).
    pub fn accepted_per_key(&self) -> HashMap<String, usize> {
        self.inner.lock().unwrap().accepted_per_key.clone()
    }

    /// Waits until `count` tickets exist (or fails after `limit`).
    pub async fn wait_for_tickets(&self, count: usize, limit: Duration) -> HashMap<String, Value> {
        let deadline = Instant::now() + limit;
        loop {
            let tickets = self.tickets();
            if tickets.len() >= count {
                return tickets;
            }
            assert!(Instant::now() < deadline, "only {} of {count} tickets after {limit:?}; attempts: {:?}", tickets.len(), self.attempts());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.go_down();
    }
}

/// Checks the Standard Webhooks headers (`webhook-id`, `-timestamp`, `-signature`) as a
/// receiver does. (`webhook.rs` also checks real deliveries with the Python reference
/// library.)
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let (Ok(timestamp), Ok(key)) = (header("webhook-timestamp").parse::<u64>(), lianxin_server::sink::webhook::signing_key(secret)) else { return false };
    let expected = lianxin_server::sink::webhook::standard_signature(&key, header("webhook-id"), timestamp, body);
    header("webhook-signature").split(' ').any(|signature| signature == expected)
}

async fn receive(State((inner, secret)): State<(Arc<Mutex<Inner>>, String)>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers.get("idempotency-key").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let signature_ok = verify(&secret, &headers, &body);
    let webhook_headers = ["webhook-id", "webhook-timestamp", "webhook-signature", "lianxin-signature"]
        .into_iter()
        .filter_map(|name| headers.get(name).and_then(|value| value.to_str().ok()).map(|value| (name.to_owned(), value.to_owned())))
        .collect();
    let behaviour = {
        let mut inner = inner.lock().unwrap();
        let answer = inner.script.pop_front();
        inner.attempts.push(Attempt { key: key.clone(), at: Instant::now(), signature_ok, answer, webhook_headers, body: body.to_vec() });
        answer
    };
    match behaviour {
        Some(Behaviour::Status(status)) => return (StatusCode::from_u16(status).unwrap(), format!("scripted {status}")).into_response(),
        Some(Behaviour::RetryAfter(seconds)) => return (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", seconds.to_string())], "busy").into_response(),
        Some(Behaviour::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Some(Behaviour::AcceptThenHang) | None => {}
    }
    if !signature_ok {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let ticket = {
        let mut inner = inner.lock().unwrap();
        let next = inner.tickets.len() + 1;
        match inner.tickets.get(&key) {
            Some((ticket, _)) => ticket.clone(),
            None => {
                let ticket = format!("T-{next}");
                inner.tickets.insert(key.clone(), (ticket.clone(), serde_json::from_slice(&body).unwrap_or(Value::Null)));
                *inner.accepted_per_key.entry(key).or_default() += 1;
                ticket
            }
        }
    };
    if matches!(behaviour, Some(Behaviour::AcceptThenHang)) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    axum::Json(json!({ "ticket_id": ticket })).into_response()
}
