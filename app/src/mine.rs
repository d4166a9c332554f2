//! The reports filed from this phone: their tracking numbers and follow-up secrets, kept in
//! localStorage (`lianxin.mine`, "T.k" pairs), so a returning resident finds them again on
//! the server's "my reports" page, with their status and which wait for an answer.

use lianxin_contract::{Lang, Receipt};

const KEY: &str = "lianxin.mine";
/// The most reports kept; the oldest go first.
const KEPT: usize = 30;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn pairs() -> Vec<String> {
    storage().and_then(|storage| storage.get_item(KEY).ok().flatten()).map(|text| text.split(',').filter(|pair| !pair.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

/// Keeps a receipt on this phone.
pub fn remember(receipt: &Receipt) {
    if receipt.follow_up_secret.is_empty() {
        return;
    }
    let pair = format!("{}.{}", receipt.tracking_no, receipt.follow_up_secret);
    let mut pairs = pairs();
    pairs.retain(|kept| *kept != pair);
    pairs.push(pair);
    let start = pairs.len().saturating_sub(KEPT);
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, &pairs[start..].join(","));
    }
}

/// The "my reports" page for the reports kept here, when there are any.
pub fn page(lang: Lang) -> Option<String> {
    let pairs = pairs();
    (!pairs.is_empty()).then(|| format!("/r/mine?lang={}&r={}", lang.tag(), pairs.join(",")))
}
