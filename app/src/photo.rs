//! Photo preparation in the browser, before anything is uploaded: the phone's photo is
//! decoded by the browser (`createImageBitmap`, which applies the EXIF orientation),
//! downscaled on a canvas to at most 1600 px on its long edge, and re-encoded as JPEG at
//! quality 0.8. A 4 MB camera photo travels as a few hundred KB, upright, and without EXIF
//! or GPS (a canvas carries no metadata). The server still distrusts every byte.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap, ImageBitmapOptions, ImageOrientation};

use crate::json::js_text;

/// Longest edge of an uploaded photo, in pixels.
pub const MAX_EDGE: u32 = 1600;
/// JPEG quality of uploaded photos.
pub const QUALITY: f64 = 0.8;

/// A photo ready to upload.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedPhoto {
    /// The JPEG.
    pub blob: Blob,
    /// An object URL for the thumbnail; revoke it when the photo is removed.
    pub preview_url: String,
    /// Size in bytes.
    pub bytes: u32,
    /// Where the original says it was taken (its EXIF GPS), offered to the resident; the
    /// prepared JPEG carries no metadata.
    pub taken_at: Option<crate::exif::TakenAt>,
}

/// The original's EXIF position, from its first 256 KB (where APP1 is).
async fn taken_at(file: &Blob) -> Option<crate::exif::TakenAt> {
    let head = file.slice_with_i32_and_i32(0, 256 * 1024).ok()?;
    let buffer = JsFuture::from(head.array_buffer()).await.ok()?;
    crate::exif::taken_at(&js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Decodes, orients, downscales and re-encodes `file`.
pub async fn prepare(file: &Blob) -> Result<PreparedPhoto, String> {
    let window = web_sys::window().ok_or("no window")?;
    let options = ImageBitmapOptions::new();
    options.set_image_orientation(ImageOrientation::FromImage);
    let promise = window.create_image_bitmap_with_blob_and_image_bitmap_options(file, &options).map_err(js_text)?;
    let bitmap: ImageBitmap = JsFuture::from(promise).await.map_err(js_text)?.dyn_into().map_err(js_text)?;
    let (width, height) = (bitmap.width(), bitmap.height());
    let scale = (f64::from(MAX_EDGE) / f64::from(width.max(height))).min(1.0);
    let (target_width, target_height) = (((f64::from(width) * scale).round() as u32).max(1), ((f64::from(height) * scale).round() as u32).max(1));
    let document = window.document().ok_or("no document")?;
    let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(js_text)?.dyn_into().map_err(|_| "no canvas")?;
    canvas.set_width(target_width);
    canvas.set_height(target_height);
    let context: CanvasRenderingContext2d = canvas.get_context("2d").map_err(js_text)?.ok_or("no 2d canvas")?.dyn_into().map_err(|_| "no 2d canvas")?;
    context.set_image_smoothing_enabled(true);
    context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(target_width), f64::from(target_height)).map_err(js_text)?;
    bitmap.close();
    let encoded = js_sys::Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move |blob: JsValue| {
            if blob.is_null() {
                let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("the browser could not encode the photo"));
            } else {
                let _ = resolve.call1(&JsValue::NULL, &blob);
            }
        });
        let _ = canvas.to_blob_with_type_and_encoder_options(done.unchecked_ref(), "image/jpeg", &JsValue::from_f64(QUALITY));
    });
    let blob: Blob = JsFuture::from(encoded).await.map_err(js_text)?.dyn_into().map_err(js_text)?;
    Ok(PreparedPhoto { taken_at: taken_at(file).await, ..PreparedPhoto::from_blob(blob)? })
}

impl PreparedPhoto {
    /// A photo already prepared (kept with the draft), with a fresh preview URL.
    pub fn from_blob(blob: Blob) -> Result<PreparedPhoto, String> {
        let preview_url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_text)?;
        Ok(PreparedPhoto { bytes: blob.size() as u32, blob, preview_url, taken_at: None })
    }
}

/// "320 KB", "1.2 MB".
pub fn human_size(bytes: u32) -> String {
    // Tenths of a megabyte in integers: float formatting would cost the widget's wasm its tables.
    const MB: u64 = 1024 * 1024;
    if u64::from(bytes) >= MB {
        let tenths = (u64::from(bytes) * 10 + MB / 2) / MB;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}
