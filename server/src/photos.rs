//! Makes an uploaded photo safe to store and forward. Every byte is distrusted: the real
//! format is sniffed from the content (never the file name or declared type), decoding runs
//! under `image::Limits` so a decompression bomb cannot exhaust memory, EXIF orientation is
//! applied, large photos are downscaled, and the result is re-encoded as a fresh JPEG —
//! which drops EXIF, GPS and anything appended to the file. The result goes to the
//! [`PhotoStore`], by content hash, durably before the report refers to it. A photo's
//! thumbnail is made from the stored photo the first time someone asks for it: most are
//! never asked for, and intake does only the one decode it cannot skip.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use sha2::{Digest, Sha256};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use crate::config::{IntakeLimits, PhotoSettings};
use crate::ids::hex;
use crate::intake::Upload;
use crate::photo_store::{PhotoStore, PhotoStoreError, Variant};

/// A photo made safe and written to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPhoto {
    /// SHA-256 of the re-encoded JPEG; also its file name.
    pub sha256: String,
    /// Width in pixels after orientation and downscaling.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the stored JPEG in bytes.
    pub bytes: u64,
}

/// Processes photos with at most `concurrent_decodes` decoding at once, off the async
/// runtime, so a flood of photos cannot starve the API.
#[derive(Clone, Debug)]
pub struct PhotoProcessor {
    store: PhotoStore,
    settings: PhotoSettings,
    max_pixels: u64,
    workers: DecodeWorkers,
    deletion: Arc<tokio::sync::RwLock<()>>,
}

/// Why a photo was not made safe. This module knows nothing of HTTP: the edge
/// (`error.rs`) words each for the resident and picks the status.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// Not a photo we accept (the problem says which way).
    #[error("unsupported photo: {0:?}")]
    Unsupported(PhotoProblem),
    /// Over a configured limit (its name as in the configuration).
    #[error("over the limit {limit} ({max})")]
    TooLarge {
        /// The limit's name.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// Every decoder is busy and the queue is full: try again later.
    #[error("every photo decoder is busy")]
    Busy,
    /// The photo storage is full.
    #[error("photo storage is full")]
    StorageFull,
    /// Storing the photo failed otherwise.
    #[error("storing a photo: {0}")]
    Storage(#[source] PhotoStoreError),
    /// A fault of ours (a thread gone, a panicking decoder, an encoder error).
    #[error("photo processing: {0}")]
    Internal(String),
}

/// Why a photo was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoProblem {
    /// HEIC/HEIF, what iPhones save by default.
    Heic,
    /// Not an image format we accept.
    NotAPhoto,
    /// Looks like an image but cannot be decoded completely.
    Corrupt,
    /// An image with another file appended (a polyglot), or extra data after its end.
    NotPlain,
}

/// Decoding happens on `concurrent_decodes` threads of its own, not on the runtime's
/// blocking pool: a decode allocates tens of megabytes, and spread over dozens of pool
/// threads (each with its own allocator arena) that memory stays resident.
/// The queue in front of them is bounded: past `max_queued` photos waiting or being
/// decoded, a report is answered 503 at once instead of holding its upload in memory.
#[derive(Clone, Debug)]
struct DecodeWorkers {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
}

/// Counts a job as queued until it is dropped (done, or panicked).
struct Queued(Arc<AtomicUsize>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl DecodeWorkers {
    fn start(count: usize, max_queued: usize) -> DecodeWorkers {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for index in 0..count.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("lianxin-photo-{index}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                        match job {
                            // A decoder that panics on some input costs that one request
                            // (its answer channel is dropped: a 500), never the thread:
                            // with every thread gone every photo report would fail.
                            Ok(job) => {
                                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                                    tracing::error!("a photo job panicked; its request was answered 500");
                                }
                            }
                            Err(_) => return,
                        }
                    }
                })
                .expect("a photo thread starts");
        }
        DecodeWorkers { jobs, queued: Arc::default(), max_queued: max_queued.max(1) }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PhotoError> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(PhotoError::Busy);
        }
        let queued = Queued(self.queued.clone());
        let (answer, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _queued = queued;
                let _ = answer.send(work());
            }))
            .map_err(|_| PhotoError::Internal("the photo threads are gone".into()))?;
        result.await.map_err(|_| PhotoError::Internal("a photo job panicked".into()))
    }
}

#[cfg(test)]
mod worker_tests {
    use std::sync::atomic::Ordering;

    use super::DecodeWorkers;
    use super::PhotoError;

    #[tokio::test]
    async fn a_full_decode_queue_answers_busy_at_once_and_takes_work_again_when_it_drains() {
        let workers = DecodeWorkers::start(1, 2);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = std::sync::Arc::new(std::sync::Mutex::new(hold));
        let blocking = |hold: std::sync::Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>| move || hold.lock().unwrap().recv().is_ok();
        let first = tokio::spawn({
            let workers = workers.clone();
            let job = blocking(hold.clone());
            async move { workers.run(job).await }
        });
        let second = tokio::spawn({
            let workers = workers.clone();
            let job = blocking(hold.clone());
            async move { workers.run(job).await }
        });
        while workers.queued.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }

        let third = workers.run(|| true).await;

        assert!(matches!(third, Err(PhotoError::Busy)), "{third:?}");
        release.send(()).unwrap();
        release.send(()).unwrap();
        assert!(first.await.unwrap().unwrap() && second.await.unwrap().unwrap());
        assert!(workers.run(|| true).await.unwrap(), "room again once the queue drained");
    }

    #[tokio::test]
    async fn a_panicking_photo_job_fails_alone_and_the_threads_go_on() {
        let workers = DecodeWorkers::start(1, 8);
        let panicked = workers.run(|| -> u32 { panic!("a decoder bug") }).await;
        assert!(panicked.is_err(), "the request whose photo panicked gets an error");
        for round in 0..3 {
            assert_eq!(workers.run(move || round * 2).await.unwrap(), round * 2, "the only thread still takes work");
        }
    }
}

impl PhotoProcessor {
    /// A processor storing into `store`.
    pub fn new(store: PhotoStore, settings: PhotoSettings, limits: &IntakeLimits) -> Self {
        PhotoProcessor { store, settings, max_pixels: limits.photo_pixels, workers: DecodeWorkers::start(settings.concurrent_decodes, settings.decode_queue), deletion: Arc::default() }
    }

    /// Where the photos are kept.
    pub fn store(&self) -> &PhotoStore {
        &self.store
    }

    /// Held for reading by a request from storing its photos until its report is committed,
    /// and for writing by the retention purge while it deletes photo files: a file a new
    /// report is about to use is never deleted under it (see `retention::purge_once`).
    pub fn deletion_lock(&self) -> &tokio::sync::RwLock<()> {
        &self.deletion
    }

    /// Makes `upload` safe in memory: nothing touches the disk until every photo of the
    /// report has passed, so a refused report leaves no file behind.
    pub async fn prepare(&self, upload: Upload) -> Result<SafePhoto, PhotoError> {
        let (settings, max_pixels) = (self.settings, self.max_pixels);
        // A spooled upload is read back only now, on a photo thread: at most
        // `concurrent_decodes` photos are in memory at once, however many are uploading.
        self.workers
            .run(move || {
                let (bytes, sha256) = upload.into_bytes_blocking().map_err(|error| PhotoError::Internal(format!("reading a spooled upload: {error}")))?;
                prepare_blocking(&bytes, sha256.as_ref(), settings, max_pixels)
            })
            .await?
    }

    /// Writes a prepared photo durably, named by content hash.
    pub async fn persist(&self, photo: SafePhoto) -> Result<StoredPhoto, PhotoError> {
        self.store.put(&photo.stored.sha256, photo.jpeg).await.map_err(storage_error)?;
        Ok(photo.stored)
    }

    /// A stored photo's thumbnail, made on a photo thread and stored the first time it is
    /// asked for; `None` when there is no such photo (or it was purged). Made under the
    /// photo deletion lock, so a thumbnail is never written after the retention purge
    /// removed its photo.
    pub async fn thumbnail(&self, sha256: &str) -> Result<Option<bytes::Bytes>, PhotoError> {
        let _no_deletion = self.deletion.read().await;
        if let Some(made) = self.store.get(sha256, Variant::Thumbnail).await.map_err(storage_error)? {
            return Ok(Some(made));
        }
        let Some(photo) = self.store.get(sha256, Variant::Full).await.map_err(storage_error)? else { return Ok(None) };
        let (settings, max_pixels) = (self.settings, self.max_pixels);
        let thumbnail = self.workers.run(move || thumbnail_blocking(&photo, settings, max_pixels)).await??;
        self.store.put_thumbnail(sha256, thumbnail.clone()).await.map_err(storage_error)?;
        Ok(Some(thumbnail.into()))
    }
}

/// A photo made safe, held in memory until the whole report has passed.
#[derive(Debug)]
pub struct SafePhoto {
    jpeg: Vec<u8>,
    /// What will be recorded once written.
    pub stored: StoredPhoto,
}

/// Makes one upload safe, on the calling thread (the photo threads call this; so does the
/// photo fuzz target). `sha256`: the upload's own SHA-256 when it is already known (taken
/// while it arrived); a photo stored exactly as it came is then not hashed again.
pub fn prepare_blocking(upload: &[u8], sha256: Option<&[u8; 32]>, settings: PhotoSettings, max_pixels: u64) -> Result<SafePhoto, PhotoError> {
    if let Some(prepared) = keep_jpeg_data(upload, sha256, settings, max_pixels)? {
        return Ok(prepared);
    }
    let image = decode(upload, max_pixels, settings.decode_bytes)?;
    let edge = settings.max_edge;
    // Area averaging straight into the output: no full-size floating-point copy.
    let image = if image.width() > edge || image.height() > edge { image.thumbnail(edge, edge) } else { image };
    let jpeg = encode_jpeg(&image, settings.jpeg_quality)?;
    let stored = StoredPhoto { sha256: hex(&Sha256::digest(&jpeg)), width: image.width(), height: image.height(), bytes: jpeg.len() as u64 };
    Ok(SafePhoto { jpeg, stored })
}

/// The thumbnail of a stored photo (a JPEG within `thumbnail_edge`), on the calling thread.
pub fn thumbnail_blocking(photo: &[u8], settings: PhotoSettings, max_pixels: u64) -> Result<Vec<u8>, PhotoError> {
    let image = decode(photo, max_pixels, settings.decode_bytes)?;
    encode_jpeg(&thumbnail(&image, settings.thumbnail_edge), 75)
}

/// The fast path, for what the widget sends: a JPEG that is already upright and within
/// `max_edge` keeps its compressed image data and loses every other segment but a bare
/// JFIF header first (EXIF, GPS, XMP, ICC, comments, anything after the end marker). The
/// exact bytes that will be stored are then decoded in full under the same limits, so they
/// are a valid photo by the same checks as a re-encoded one — at a fraction of the cost of
/// encoding. `None`: re-encode.
fn keep_jpeg_data(upload: &[u8], upload_sha256: Option<&[u8; 32]>, settings: PhotoSettings, max_pixels: u64) -> Result<Option<SafePhoto>, PhotoError> {
    if image::guess_format(upload).ok() != Some(ImageFormat::Jpeg) {
        return Ok(None);
    }
    check_plain(upload, ImageFormat::Jpeg)?;
    // The upload's header, read once: its size, colour space and EXIF orientation (which
    // the stripped copy no longer carries). A header the decoder refuses: re-encode, which
    // refuses it in turn with the usual error.
    let mut header = jpeg_decoder(upload, usize::MAX, None);
    if header.decode_headers().is_err() {
        return Ok(None);
    }
    let (Some((width, height)), Some(colour)) = (header.dimensions(), header.input_colorspace()) else { return Ok(None) };
    let orientation = header.exif().and_then(|exif| Orientation::from_exif_chunk(exif)).unwrap_or(Orientation::NoTransforms);
    let max_edge = settings.max_edge as usize;
    if orientation != Orientation::NoTransforms || width > max_edge || height > max_edge {
        return Ok(None);
    }
    let Some(jpeg) = strip_jpeg_metadata(upload) else { return Ok(None) };
    let Some((width, height)) = decode_jpeg_in_scratch(&jpeg, colour, max_pixels, settings.decode_bytes)? else { return Ok(None) };
    // What the widget sends has nothing to strip: stored exactly as it came, its hash is the
    // one taken while it arrived.
    let sha256 = match upload_sha256 {
        Some(known) if jpeg == upload => hex(known),
        _ => hex(&Sha256::digest(&jpeg)),
    };
    let stored = StoredPhoto { sha256, width, height, bytes: jpeg.len() as u64 };
    Ok(Some(SafePhoto { jpeg, stored }))
}

/// The JPEG decoder `image` uses (zune-jpeg), set up as `image` sets it up: lenient about
/// what real cameras write, sides up to `max_side`, and — when `colour` (the file's own
/// colour space) is given — 8-bit output in the colour type `image` would decode it to.
/// It reads `jpeg` where it lies; `image`'s wrapper copies the whole file first, for every
/// question asked of it.
fn jpeg_decoder(jpeg: &[u8], max_side: usize, colour: Option<ColorSpace>) -> zune_jpeg::JpegDecoder<ZCursor<&[u8]>> {
    let mut options = DecoderOptions::default().set_strict_mode(false).set_max_width(max_side).set_max_height(max_side);
    if let Some(colour) = colour {
        let out = if matches!(colour, ColorSpace::RGB | ColorSpace::RGBA | ColorSpace::Luma | ColorSpace::LumaA) { colour } else { ColorSpace::RGB };
        options = options.jpeg_set_out_colorspace(out);
    }
    zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(jpeg), options)
}

/// The thumbnail, within `edge` × `edge`: whole blocks of pixels averaged in one pass over
/// the decoded rows (a box filter: area averaging for an integer factor, 1600 × 1200 → 320 ×
/// 240 in one step), then whatever fraction is left by `image`'s own area averaging on the
/// small image. `image`'s thumbnail alone reads every source pixel through a generic
/// accessor and cost about half a decode; this costs a small share of one.
fn thumbnail(image: &DynamicImage, edge: u32) -> DynamicImage {
    let factor = image.width().max(image.height()) / edge.max(1);
    let reduced = match image {
        // Up to 257 lines of 255 add up within 16 bits.
        DynamicImage::ImageRgb8(rgb) if (2..=257).contains(&factor) => DynamicImage::ImageRgb8(box_reduce(rgb, factor)),
        _ => return image.thumbnail(edge, edge),
    };
    if reduced.width() > edge || reduced.height() > edge { reduced.thumbnail(edge, edge) } else { reduced }
}

/// `image` shrunk by `factor` on both sides, each output pixel the rounded mean of a
/// `factor` × `factor` block (the last partial block of a row or column is dropped: less
/// than one output pixel).
fn box_reduce(image: &image::RgbImage, factor: u32) -> image::RgbImage {
    let (width, height) = (image.width() / factor, image.height() / factor);
    let (block, stride) = (factor as usize, image.width() as usize * 3);
    let area = factor * factor;
    // First the block's lines added into one row of 16-bit sums (contiguous, so the
    // compiler vectorises it, eight or sixteen bytes at a time), then each block's columns
    // of that row: the per-pixel work is one widening add.
    let mut rows = vec![0u16; stride];
    let mut out = Vec::with_capacity(width as usize * height as usize * 3);
    for band in image.as_raw().chunks_exact(stride * block).take(height as usize) {
        rows.fill(0);
        for line in band.chunks_exact(stride) {
            for (sum, value) in rows.iter_mut().zip(line) {
                *sum += u16::from(*value);
            }
        }
        for pixels in rows.chunks_exact(3 * block).take(width as usize) {
            let mut sum = [0u32; 3];
            for pixel in pixels.chunks_exact(3) {
                sum[0] += u32::from(pixel[0]);
                sum[1] += u32::from(pixel[1]);
                sum[2] += u32::from(pixel[2]);
            }
            out.extend(sum.map(|channel| ((channel + area / 2) / area) as u8));
        }
    }
    image::RgbImage::from_raw(width, height, out).expect("the buffer has width × height pixels")
}

/// A JPEG rebuilt from only the segments a decoder needs — quantisation and Huffman
/// tables, frame header, restart interval, scans with their entropy-coded data — and an
/// end marker, behind a bare JFIF header if it had one first (version and pixel density,
/// no thumbnail: nothing about the resident, the camera or the place; what a browser's
/// canvas writes, so a photo the widget prepared is stored byte for byte as it came).
/// `None` for anything unusual (an Adobe colour-transform segment, a hierarchical or
/// arithmetic-coded frame, a broken structure): those are re-encoded.
pub fn strip_jpeg_metadata(jpeg: &[u8]) -> Option<Vec<u8>> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(jpeg.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    loop {
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        while *jpeg.get(at)? == 0xFF {
            at += 1; // fill bytes
        }
        let marker = *jpeg.get(at)?;
        at += 1;
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            return Some(out);
        }
        let length = usize::from(u16::from_be_bytes([*jpeg.get(at)?, *jpeg.get(at + 1)?]));
        let segment = jpeg.get(at..at + length).filter(|_| length >= 2)?;
        at += length;
        match marker {
            0xE0 if out.len() == 2 && is_bare_jfif(segment) => {
                out.extend_from_slice(&[0xFF, 0xE0]);
                out.extend_from_slice(segment);
            }
            // APP0–APP13, APP15 (JFIF with a thumbnail, JFXX, EXIF, ICC, XMP, …) and
            // comments: dropped.
            0xE0..=0xED | 0xEF | 0xFE => {}
            // Tables, baseline/extended/progressive frames, restart interval: kept.
            0xDB | 0xC4 | 0xDD | 0xC0..=0xC2 => {
                out.extend_from_slice(&[0xFF, marker]);
                out.extend_from_slice(segment);
            }
            0xDA => {
                out.extend_from_slice(&[0xFF, 0xDA]);
                out.extend_from_slice(segment);
                let start = at;
                // Entropy-coded data runs to the next marker that is neither a stuffed
                // zero byte nor a restart marker (found a word at a time by `memchr`).
                loop {
                    at += memchr::memchr(0xFF, jpeg.get(at..)?)?;
                    let next = *jpeg.get(at + 1)?;
                    if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                        at += 2;
                        continue;
                    }
                    break;
                }
                out.extend_from_slice(&jpeg[start..at]);
            }
            _ => return None,
        }
    }
}

fn storage_error(error: PhotoStoreError) -> PhotoError {
    if error.is_full() { PhotoError::StorageFull } else { PhotoError::Storage(error) }
}

/// Sniffs, checks and decodes a photo, applying its EXIF orientation.
pub fn decode(upload: &[u8], max_pixels: u64, max_bytes: u64) -> Result<DynamicImage, PhotoError> {
    let (decoder, orientation) = checked_decoder(upload, max_pixels, max_bytes)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|error| decode_error(error, max_pixels))?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// A thread's decode buffer up to this size is kept for its next photo (a 1600 × 1200
/// photo needs 5.8 MB); a larger one is given back after its decode.
const SCRATCH_KEPT: usize = 16 << 20;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Decodes every pixel of `jpeg` (a stripped JPEG whose original's colour space was
/// `colour`) under the same checks as [`decode`] — the side and pixel limits and the
/// memory budget, from the header before any pixel — into this thread's reused buffer: it
/// proves the bytes are a whole image without allocating and zeroing megabytes per photo.
/// Returns its width and height as stored (no orientation applied: the fast path keeps
/// only upright photos); `None` if the stripped header no longer reads as the original's.
fn decode_jpeg_in_scratch(jpeg: &[u8], colour: ColorSpace, max_pixels: u64, max_bytes: u64) -> Result<Option<(u32, u32)>, PhotoError> {
    let failed = |error: zune_jpeg::errors::DecodeErrors| match error {
        zune_jpeg::errors::DecodeErrors::LargeDimensions(_) => PhotoError::TooLarge { limit: "photo_pixels", max: max_pixels },
        _ => PhotoError::Unsupported(PhotoProblem::Corrupt),
    };
    check_plain(jpeg, ImageFormat::Jpeg)?;
    let mut decoder = jpeg_decoder(jpeg, max_side(max_pixels) as usize, Some(colour));
    decoder.decode_headers().map_err(failed)?;
    if decoder.input_colorspace() != Some(colour) {
        return Ok(None);
    }
    let (Some((width, height)), Some(length)) = (decoder.dimensions(), decoder.output_buffer_size()) else { return Ok(None) };
    if width as u64 * height as u64 > max_pixels {
        return Err(PhotoError::TooLarge { limit: "photo_pixels", max: max_pixels });
    }
    if length as u64 > max_bytes {
        return Err(PhotoError::TooLarge { limit: "photo_decode_bytes", max: max_bytes });
    }
    SCRATCH
        .with_borrow_mut(|scratch| {
            if scratch.len() < length {
                scratch.resize(length, 0);
            }
            let decoded = decoder.decode_into(&mut scratch[..length]);
            if scratch.len() > SCRATCH_KEPT {
                *scratch = Vec::new();
            }
            decoded
        })
        .map_err(failed)?;
    // A JPEG's sides fit 16 bits.
    Ok(Some((width as u32, height as u32)))
}

/// The longest side a decoder accepts: a square image of that side is within the pixel
/// limit four times over; the exact pixel count is checked from the header before any
/// pixel is decoded.
fn max_side(max_pixels: u64) -> u32 {
    (max_pixels as f64).sqrt().ceil() as u32 * 4
}

/// Sniffs and checks a photo and reads its header: a decoder within the pixel limit and
/// the memory budget, and the orientation to apply.
fn checked_decoder(upload: &[u8], max_pixels: u64, max_bytes: u64) -> Result<(impl ImageDecoder + '_, Orientation), PhotoError> {
    if upload.len() >= 12 && &upload[4..8] == b"ftyp" && matches!(&upload[8..12], b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif") {
        return Err(PhotoError::Unsupported(PhotoProblem::Heic));
    }
    let format = image::guess_format(upload).map_err(|_| PhotoError::Unsupported(PhotoProblem::NotAPhoto))?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) {
        return Err(PhotoError::Unsupported(PhotoProblem::NotAPhoto));
    }
    check_plain(upload, format)?;
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(max_side(max_pixels));
    limits.max_image_height = Some(max_side(max_pixels));
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|error| decode_error(error, max_pixels))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(PhotoError::TooLarge { limit: "photo_pixels", max: max_pixels });
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    // The memory budget, from the header: `from_decoder` does not apply `max_alloc`, and a
    // small 16-bit PNG can expand to hundreds of megabytes, twice over when rotated.
    let copies = if orientation == Orientation::NoTransforms { 1 } else { 2 };
    if decoder.total_bytes().saturating_mul(copies) > max_bytes {
        return Err(PhotoError::TooLarge { limit: "photo_decode_bytes", max: max_bytes });
    }
    Ok((decoder, orientation))
}

fn decode_error(error: image::ImageError, max_pixels: u64) -> PhotoError {
    match error {
        image::ImageError::Limits(_) => PhotoError::TooLarge { limit: "photo_pixels", max: max_pixels },
        _ => PhotoError::Unsupported(PhotoProblem::Corrupt),
    }
}

/// Whether an APP0 segment (its length field on) is a JFIF header and nothing more: 16
/// bytes, `JFIF\0`, version, density unit and densities, and a thumbnail of 0 × 0.
fn is_bare_jfif(segment: &[u8]) -> bool {
    segment.len() == 16 && &segment[2..7] == b"JFIF\0" && segment[14..16] == [0, 0]
}

/// Refuses a truncated file (no end marker) and a polyglot (another file appended after the
/// image's end, such as a ZIP or a script). Re-encoding would drop the extra bytes anyway;
/// refusing says clearly that the upload was not a plain photo. Zero padding is tolerated.
fn check_plain(upload: &[u8], format: ImageFormat) -> Result<(), PhotoError> {
    let end = match format {
        ImageFormat::Jpeg => upload.windows(2).rposition(|pair| pair == [0xFF, 0xD9]).map(|at| at + 2),
        ImageFormat::Png => upload.windows(8).rposition(|chunk| &chunk[..4] == b"IEND").map(|at| at + 8).filter(|end| *end <= upload.len()),
        ImageFormat::WebP => {
            let declared = upload.get(4..8).map(|size| u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize + 8);
            declared.filter(|end| *end <= upload.len())
        }
        _ => None,
    };
    let Some(end) = end else { return Err(PhotoError::Unsupported(PhotoProblem::Corrupt)) };
    if upload[end..].iter().any(|byte| *byte != 0) {
        return Err(PhotoError::Unsupported(PhotoProblem::NotPlain));
    }
    Ok(())
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let failed = |error: jpeg_encoder::EncodingError| PhotoError::Internal(format!("encoding a JPEG: {error}"));
    let mut out = Vec::new();
    let (width, height) = (u16::try_from(image.width()), u16::try_from(image.height()));
    let (Ok(width), Ok(height)) = (width, height) else { return Err(PhotoError::Internal("a photo to encode is wider than JPEG allows".into())) };
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    match image {
        DynamicImage::ImageRgb8(rgb) => encoder.encode(rgb.as_raw(), width, height, jpeg_encoder::ColorType::Rgb),
        DynamicImage::ImageLuma8(grey) => encoder.encode(grey.as_raw(), width, height, jpeg_encoder::ColorType::Luma),
        other => encoder.encode(other.to_rgb8().as_raw(), width, height, jpeg_encoder::ColorType::Rgb),
    }
    .map_err(failed)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain_jpeg() -> Vec<u8> {
        let image = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 90]));
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&image).unwrap();
        bytes
    }

    /// `jpeg` with a segment inserted after the start marker.
    fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn stripping_drops_exif_and_comments_and_keeps_the_pixels() {
        let plain = plain_jpeg();
        let tagged = with_segment(&with_segment(&plain, 0xE1, b"Exif\0\0GPS 45.75N 126.63E"), 0xFE, b"taken at home");
        let mut padded = tagged.clone();
        padded.extend_from_slice(&[0, 0, 0]);
        let stripped = strip_jpeg_metadata(&padded).unwrap();
        let contains = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|window| window == needle);
        assert!(contains(&tagged, b"Exif") && !contains(&stripped, b"Exif"), "EXIF is gone");
        assert!(!contains(&stripped, b"GPS") && !contains(&stripped, b"taken at home"), "GPS and comment are gone");
        assert!(stripped.ends_with(&[0xFF, 0xD9]) && stripped.len() < padded.len());
        let before = decode(&plain, 1 << 20, u64::MAX).unwrap().to_rgb8();
        let after = decode(&stripped, 1 << 20, u64::MAX).unwrap().to_rgb8();
        assert_eq!(before, after, "the same compressed data decodes to the same pixels");
    }

    #[test]
    fn unusual_jpegs_are_left_to_the_re_encoding_path() {
        let plain = plain_jpeg();
        assert!(strip_jpeg_metadata(&with_segment(&plain, 0xEE, b"Adobe\0\x64\0\0\0\0\x02")).is_none(), "an Adobe colour transform is re-encoded");
        assert!(strip_jpeg_metadata(&plain[..plain.len() / 2]).is_none(), "a truncated file is not stripped");
        assert!(strip_jpeg_metadata(b"not a jpeg").is_none());
    }

    #[test]
    fn the_thumbnail_averages_blocks_and_fits_the_edge() {
        // 4 × 4 blocks: each output pixel is its block's mean, rounded.
        let image = image::RgbImage::from_fn(16, 12, |x, y| image::Rgb([(x * 10) as u8, (y * 20) as u8, ((x + y) % 2 * 255) as u8]));
        let small = thumbnail(&DynamicImage::ImageRgb8(image), 4).to_rgb8();
        assert_eq!(small.dimensions(), (4, 3));
        assert_eq!(small.get_pixel(0, 0).0, [15, 30, 128], "mean of x 0..4 ×10, y 0..4 ×20, a checkerboard");
        assert_eq!(small.get_pixel(3, 2).0, [135, 190, 128]);
        // A factor that leaves a fraction: the blocks, then the last step to the edge.
        let odd = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(1500, 1000, image::Rgb([7, 8, 9])));
        let fitted = thumbnail(&odd, 320).to_rgb8();
        assert_eq!(fitted.dimensions(), (320, 213));
        assert!(fitted.pixels().all(|pixel| pixel.0 == [7, 8, 9]), "a flat image stays flat");
        // Grey JPEGs and other layouts keep `image`'s own path.
        let grey = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(640, 480, image::Luma([50])));
        let grey = thumbnail(&grey, 320);
        assert_eq!((grey.width(), grey.height()), (320, 240));
    }

    #[test]
    fn a_kept_jpeg_is_held_to_the_pixel_limit_and_the_decoding_budget() {
        let plain = plain_jpeg();
        let settings = |decode_bytes| PhotoSettings { decode_bytes, ..PhotoSettings::default() };
        let too_many = prepare_blocking(&plain, None, settings(u64::MAX), 64 * 48 - 1);
        assert!(matches!(too_many, Err(PhotoError::TooLarge { limit: "photo_pixels", .. })), "{too_many:?}");
        // 64 × 48 RGB pixels, 3 bytes each: one byte short of the budget, then exactly it.
        let over = prepare_blocking(&plain, None, settings(64 * 48 * 3 - 1), 1 << 20);
        assert!(matches!(over, Err(PhotoError::TooLarge { limit: "photo_decode_bytes", .. })), "{over:?}");
        let within = prepare_blocking(&plain, None, settings(64 * 48 * 3), 1 << 20).unwrap();
        assert_eq!((within.stored.width, within.stored.height), (64, 48));
        assert_eq!(within.jpeg, strip_jpeg_metadata(&plain).unwrap(), "kept, not re-encoded");
        // A scan cut short and closed again is not a whole image.
        let mut cut = plain[..plain.len() - 200].to_vec();
        cut.extend_from_slice(&[0xFF, 0xD9]);
        let decoded = decode(&cut, 1 << 20, u64::MAX).map(|image| image.to_rgb8());
        let kept = prepare_blocking(&cut, None, PhotoSettings::default(), 1 << 20);
        assert_eq!(kept.is_ok(), decoded.is_ok(), "the kept path judges a cut scan as the full decoder does");
    }

    #[test]
    fn a_photo_with_nothing_to_strip_is_stored_as_it_came_under_the_hash_taken_on_arrival() {
        // `image`'s encoder writes what a browser's canvas writes: a bare JFIF header first.
        let plain = plain_jpeg();
        assert_eq!(plain[2..6], [0xFF, 0xE0, 0, 16], "a bare JFIF header follows the start");
        assert_eq!(strip_jpeg_metadata(&plain).unwrap(), plain, "nothing to strip");
        let arrived: [u8; 32] = Sha256::digest(&plain).into();
        let kept = prepare_blocking(&plain, Some(&arrived), PhotoSettings::default(), 1 << 20).unwrap();
        assert_eq!(kept.jpeg, plain);
        assert_eq!(kept.stored.sha256, hex(&arrived));
        // Something stripped: the stored bytes get a hash of their own.
        let tagged = with_segment(&plain, 0xE1, b"Exif\0\0GPS 45.75N 126.63E");
        let tagged_hash: [u8; 32] = Sha256::digest(&tagged).into();
        let stripped = prepare_blocking(&tagged, Some(&tagged_hash), PhotoSettings::default(), 1 << 20).unwrap();
        assert_eq!(stripped.jpeg, plain);
        assert_eq!(stripped.stored.sha256, hex(&Sha256::digest(&plain)));
        // A JFIF header carrying a thumbnail (1 × 1 here) goes, as does one that is not first.
        let body = &plain[20..];
        let mut with_thumbnail = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 19];
        with_thumbnail.extend_from_slice(b"JFIF\0\x01\x02\0\0\x01\0\x01\x01\x01\x09\x09\x09");
        with_thumbnail.extend_from_slice(body);
        let bare_body = [&[0xFF, 0xD8][..], body].concat();
        assert_eq!(strip_jpeg_metadata(&with_thumbnail).unwrap(), bare_body, "the thumbnail is dropped with its header");
        let first_table = 2 + usize::from(u16::from_be_bytes([body[2], body[3]]));
        let late = [&[0xFF, 0xD8][..], &body[..first_table], &plain[2..20], &body[first_table..]].concat();
        assert_eq!(strip_jpeg_metadata(&late).unwrap(), bare_body, "a JFIF header after the tables is dropped");
    }

    #[test]
    fn an_upright_small_jpeg_is_kept_and_a_large_one_is_re_encoded() {
        let settings = PhotoSettings { max_edge: 50, ..PhotoSettings::default() };
        let plain = plain_jpeg();
        let kept = prepare_blocking(&with_segment(&plain, 0xE1, b"Exif\0\0"), None, PhotoSettings::default(), 1 << 20).unwrap();
        assert_eq!(kept.jpeg, strip_jpeg_metadata(&plain).unwrap(), "the compressed data is stored as it came");
        let downscaled = prepare_blocking(&plain, None, settings, 1 << 20).unwrap();
        assert_eq!((downscaled.stored.width, downscaled.stored.height), (50, 38), "too large: downscaled and re-encoded");
    }
}
