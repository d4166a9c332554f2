//! Probes.

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_as_soon_as_the_server_is_up() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn readyz_reports_ready_once_the_forwarder_runs() {
    let app = spawn_app().await;
    let mut status = 0;
    for _ in 0..50 {
        status = app.client.get(app.url("/readyz")).send().await.unwrap().status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}
