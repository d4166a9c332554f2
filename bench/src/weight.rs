//! Widget weight: the bytes of everything the first screen needs (the page and the js,
//! wasm and css it names; then with the catalog), raw and as the server transfers them with
//! gzip and with brotli; beside the floor, a plain HTML form with the same categories and fields and no
//! script at all. The map, loaded only when a resident opens it, is measured apart.

use std::io::Write;

use lianxin_contract::{Catalog, FieldKind, Lang};

use crate::report::Report;

fn gzip(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("in-memory write");
    encoder.finish().expect("in-memory write").len()
}

fn brotli(bytes: &[u8]) -> usize {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(bytes).expect("in-memory write");
    }
    out.len()
}

/// The no-script floor: one server-rendered page with every category and every field a
/// category can ask for, as a city without a widget would publish.
pub fn plain_form(catalog: &Catalog) -> String {
    let lang = Lang::ZhCn;
    let mut html = String::from(
        "<!doctype html><html lang=zh-CN><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>12345 反映问题</title>\
         <form method=post action=/api/v1/reports enctype=multipart/form-data><label>问题类别<select name=category>",
    );
    for category in &catalog.categories {
        html.push_str(&format!("<option value={}>{}</option>", category.code, category.name.get(lang)));
    }
    html.push_str("</select></label><label>诉求类型<select name=kind><option>投诉<option>举报<option>求助<option>咨询<option>建议<option>表扬</select></label>");
    for category in &catalog.categories {
        html.push_str(&format!("<fieldset name={}><legend>{}</legend>", category.code, category.name.get(lang)));
        for field in &category.fields {
            let input = match &field.kind {
                FieldKind::LongText { .. } => format!("<textarea name={}></textarea>", field.code),
                FieldKind::Choice { options, .. } | FieldKind::MultiChoice { options, .. } => {
                    let options: String = options.iter().map(|option| format!("<option value={}>{}", option.code, option.label.get(lang))).collect();
                    format!("<select name={}>{options}</select>", field.code)
                }
                _ => format!("<input name={}>", field.code),
            };
            html.push_str(&format!("<label>{}{input}</label>", field.label.get(lang)));
        }
        html.push_str("</fieldset>");
    }
    html.push_str("<label>描述<textarea name=description required></textarea></label><label>照片<input type=file name=photo accept=image/* multiple></label><label>区<select name=district>");
    for district in &catalog.districts {
        html.push_str(&format!("<option value={}>{}", district.code, district.name.get(lang)));
    }
    html.push_str("</select></label><label>地址<input name=address></label><label>姓名<input name=name></label><label>电话<input name=phone type=tel></label><label><input type=checkbox name=consent>同意隐私说明</label><button>提交</button></form>");
    html
}

/// The bytes of `path` as the server sends them to a browser accepting `encoding` (the
/// widget's files: their precompressed twins; the page: compressed as served).
async fn transferred(client: &reqwest::Client, server: &str, path: &str, encoding: &str) -> anyhow::Result<usize> {
    let response = client.get(format!("{server}{path}")).header("accept-encoding", encoding).header("accept-language", "zh-CN").send().await?.error_for_status()?;
    Ok(response.bytes().await?.len())
}

/// Measures the built widget's first load as the server transfers it (each file as the
/// server sends it to a phone accepting brotli, or gzip) and the catalog beside it; the
/// target (issue 6) is on the widget's own files (html, js, wasm, css), and the catalog it
/// fetches beside them is shown apart.
pub async fn run(report: &mut Report) -> anyhow::Result<()> {
    let dist = lianxin_e2e::widget_dir();
    let server = lianxin_e2e::Server::start().await?;
    let client = reqwest::Client::new();
    // The first load is the page as the server sends it to a Chinese phone (with its first
    // screen rendered in) and what it names (Trunk's hashed js, wasm and css); what loads
    // later — the map and Leaflet, the embed loader — is counted apart.
    let index = client.get(format!("{}/", server.url)).header("accept-language", "zh-CN").send().await?.error_for_status()?.text().await?;
    // (raw, gzip, brotli) of the widget's files, and of the wasm and the js alone.
    let (mut widget, mut wasm, mut js, mut map) = ([0usize; 3], 0usize, 0usize, 0usize);
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
        let text_or_wasm = name.ends_with(".html") || name.ends_with(".css") || name.ends_with(".js") || name.ends_with(".wasm");
        let first_load = text_or_wasm && (name == "index.html" || index.contains(&format!("/{name}")));
        if text_or_wasm && !first_load && (name.starts_with("leaflet") || name.starts_with("map.")) {
            map += transferred(&client, &server.url, &format!("/{name}"), "br").await?;
        }
        if first_load {
            let (raw, served) = if name == "index.html" { (index.len(), "/".to_owned()) } else { (std::fs::metadata(&path)?.len() as usize, format!("/{name}")) };
            let compressed = transferred(&client, &server.url, &served, "br").await?;
            if name.ends_with(".wasm") {
                wasm = compressed;
            } else if name.ends_with(".js") {
                js += compressed;
            }
            widget[0] += raw;
            widget[1] += transferred(&client, &server.url, &served, "gzip").await?;
            widget[2] += compressed;
        }
    }
    // What the page preloads for a Chinese phone: the texts in one language without search
    // words; the search words (fetched when the search box is first used) and all three
    // languages with their words beside it for comparison.
    anyhow::ensure!(index.contains(r#""/api/v1/catalog?lang=" + lang + "&keywords=apart""#), "the page no longer preloads the catalog this bench measures");
    let catalog_brotli = transferred(&client, &server.url, "/api/v1/catalog?lang=zh-CN&keywords=apart", "br").await?;
    let with_words = transferred(&client, &server.url, "/api/v1/catalog?lang=zh-CN", "br").await?;
    let search_words = transferred(&client, &server.url, "/api/v1/catalog/keywords", "br").await?;
    let all_languages = transferred(&client, &server.url, "/api/v1/catalog", "br").await?;
    let catalog = lianxin_server::catalog::load(None)?.catalog;
    let floor = plain_form(&catalog);
    let floor_brotli = brotli(floor.as_bytes()) as f64;

    report.add("widget", "first load, raw (html+js+wasm+css)", widget[0] as f64, "B").baseline("plain HTML form", floor.len() as f64);
    report.add("widget", "first load, gzip", widget[1] as f64, "B").baseline("plain HTML form", gzip(floor.as_bytes()) as f64);
    let total = widget[2] as f64;
    report.add("widget", "first load, brotli", total, "B").baseline("plain HTML form", floor_brotli).target("≤ 150 KB", total <= 150.0 * 1024.0);
    report.add("widget", "  of which wasm, brotli", wasm as f64, "B");
    report.add("widget", "  of which js, brotli", js as f64, "B");
    report.add("widget", "catalog fetched beside it (zh-CN, no search words), brotli", catalog_brotli as f64, "B").baseline("with its search words", with_words as f64);
    report.add("widget", "search words when the search box is first used, brotli", search_words as f64, "B").baseline("all three languages with words", all_languages as f64);
    report.add("widget", "the map when opened (Leaflet + map.js + css), brotli", map as f64, "B");
    let with_catalog = (widget[2] + catalog_brotli) as f64;
    report.add("widget", "first load with the catalog, brotli", with_catalog, "B").baseline("plain HTML form", floor_brotli).target("≤ 130 KB", with_catalog <= 130.0 * 1024.0);
    Ok(())
}
