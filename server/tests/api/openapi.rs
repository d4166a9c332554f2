//! The OpenAPI document is generated from the handlers and matches the routes that exist.

use serde_json::Value;

use crate::helpers::spawn_app;

/// The API surface, as the widget, embedders and the city's tools rely on it. A route added
/// or removed must show up here and in the document at once.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/catalog"),
    ("get", "/api/v1/catalog/keywords"),
    ("get", "/api/v1/districts/locate"),
    ("get", "/api/v1/map"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/photos/{sha256}"),
    ("post", "/api/v1/pipeline/events"),
    ("post", "/api/v1/reports"),
    ("get", "/api/v1/reports/nearby"),
    ("get", "/api/v1/reports/nearby/cells"),
    ("get", "/api/v1/reports/{tracking_no}"),
    ("post", "/api/v1/reports/{tracking_no}/answer"),
    ("post", "/api/v1/reports/{tracking_no}/support"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/readyz"),
    ("get", "/open311/v2/discovery.json"),
    ("get", "/open311/v2/services.json"),
    ("get", "/open311/v2/services/{file}"),
    ("get", "/open311/v2/requests.json"),
    ("post", "/open311/v2/requests.json"),
    ("get", "/open311/v2/requests/{file}"),
];

#[tokio::test]
async fn openapi_document_lists_exactly_the_routes_and_each_is_served() {
    let app = spawn_app().await;
    let document: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));

    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES.iter().map(|(method, path)| (method.to_string(), path.to_string())).collect();
    expected.sort();
    assert_eq!(documented, expected);

    for (method, path) in ROUTES {
        let concrete = path.replace("{tracking_no}", "ABCD-EFGH");
        let request = match *method {
            "get" => app.client.get(app.url(&concrete)),
            _ => app.client.post(app.url(&concrete)),
        };
        let response = request.send().await.unwrap();
        let content_type = response.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
        assert_ne!(response.status(), 405, "{method} {path}");
        assert!(!content_type.starts_with("text/html"), "{method} {path} is served by a handler, not the widget fallback");
    }
}
