//! Photos in S3-compatible object storage (`photo_store = "s3://bucket/prefix"`), against
//! the S3 emulator `cargo xtask test` starts (moto, from PyPI) and names in
//! `LIANXIN_TEST_S3_ENDPOINT`, with the usual `AWS_*` variables set for the whole run.
//! Photos land in the bucket and not on local disk, signed links still serve them, the
//! retention purge deletes them from the bucket.

use lianxin_contract::report::Status;
use lianxin_server::photo_store::{PhotoStore, Variant};
use serde_json::Value;

use crate::helpers::{jpeg, manhole_report, spawn_app_with};

#[tokio::test]
async fn photos_live_in_the_bucket_are_served_by_signed_link_and_purged_from_it() {
    let Some(endpoint) = std::env::var("LIANXIN_TEST_S3_ENDPOINT").ok().filter(|endpoint| !endpoint.is_empty()) else {
        eprintln!("skipped: no S3 emulator (cargo xtask test starts one and sets LIANXIN_TEST_S3_ENDPOINT)");
        return;
    };
    let bucket = format!("lianxin-{}", uuid::Uuid::new_v4().simple());
    let http = reqwest::Client::new();
    assert!(http.put(format!("{endpoint}/{bucket}")).send().await.unwrap().status().is_success(), "the emulator creates the bucket");
    let app = spawn_app_with(|config| {
        config.storage.photo_store = format!("s3://{bucket}/city-photos");
        config.privacy.retention_days = 1;
    })
    .await;

    let receipt: Value = app.post_report(Some("s3"), &manhole_report(), vec![jpeg(640, 480)]).await.json().await.unwrap();
    let line = app.wait_for_pipeline(1).await.remove(0);
    let photo = &line["photos"][0];
    let sha256 = photo["sha256"].as_str().unwrap();
    // The bucket as another client sees it (a separate connection, same credentials).
    let bucket_view = PhotoStore::from_url(&format!("s3://{bucket}/city-photos")).unwrap();
    let bucket_bytes = bucket_view.get(sha256, Variant::Full).await.unwrap().expect("the photo is in the bucket");
    assert_eq!(bucket_view.get(sha256, Variant::Thumbnail).await.unwrap(), None, "a thumbnail is made when first asked for");

    let served = app.client.get(photo["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap(), bucket_bytes, "the signed link serves the bucket's bytes");
    let thumbnail = app.client.get(format!("{}&size=thumb", photo["url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(thumbnail.status(), 200);
    let thumbnail = thumbnail.bytes().await.unwrap();
    assert_eq!(bucket_view.get(sha256, Variant::Thumbnail).await.unwrap(), Some(thumbnail), "then kept in the bucket");
    assert!(!app.data_dir.path().join("photos").exists(), "no photo on the server's disk");

    let store = &app.state.store;
    store.record_status(receipt["id"].as_str().unwrap(), Status::Resolved, lianxin_server::ids::now_ms() - 2 * 86_400_000, None).await.unwrap();
    let purged = lianxin_server::retention::purge_once(store, &app.state.photos, &app.state.config.privacy).await.unwrap();
    assert_eq!(purged.unused_photos, vec![sha256.to_owned()]);
    assert_eq!(bucket_view.get(sha256, Variant::Full).await.unwrap(), None, "purged from the bucket");
    assert_eq!(bucket_view.get(sha256, Variant::Thumbnail).await.unwrap(), None, "its thumbnail too");
    assert_eq!(app.client.get(photo["url"].as_str().unwrap()).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(format!("{}&size=thumb", photo["url"].as_str().unwrap())).send().await.unwrap().status(), 404);
    assert_eq!(bucket_view.get(sha256, Variant::Thumbnail).await.unwrap(), None, "asking for a purged photo's thumbnail makes none");
}
