//! Where a photo was taken, read from its EXIF GPS tags before preparation drops every
//! metadata segment. The widget only offers it ("use where the photo was taken?"); it is
//! never sent unless the resident takes it, and the photo itself still leaves without it.

/// The position (WGS 84, as phones' GPS writes it) and, when the camera recorded it, its
/// horizontal error in metres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TakenAt {
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// `GPSHPositioningError`, in metres.
    pub error_m: Option<f64>,
}

/// The GPS position in a JPEG's EXIF (`bytes`: the start of the file, where APP1 is).
pub fn taken_at(bytes: &[u8]) -> Option<TakenAt> {
    let tiff = exif_block(bytes)?;
    let little = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let reader = Tiff { bytes: tiff, little };
    let ifd0 = reader.u32(4)? as usize;
    let gps = reader.entries(ifd0)?.find(|entry| entry.tag == 0x8825)?.value_offset as usize;
    let (mut lat, mut lon, mut lat_ref, mut lon_ref, mut error_m) = (None, None, b'N', b'E', None);
    for entry in reader.entries(gps)? {
        match entry.tag {
            1 => lat_ref = (entry.value_offset_bytes)[0],
            3 => lon_ref = (entry.value_offset_bytes)[0],
            2 if entry.count == 3 => lat = reader.degrees(entry.value_offset as usize),
            4 if entry.count == 3 => lon = reader.degrees(entry.value_offset as usize),
            0x1F => error_m = reader.rational(entry.value_offset as usize),
            _ => {}
        }
    }
    let lat = if lat_ref == b'S' { -lat? } else { lat? };
    let lon = if lon_ref == b'W' { -lon? } else { lon? };
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && (lat, lon) != (0.0, 0.0)).then_some(TakenAt { lat, lon, error_m })
}

/// The TIFF structure inside the JPEG's `Exif` APP1 segment.
fn exif_block(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA || length < 2 {
            return None;
        }
        let body = bytes.get(at + 4..at + 2 + length)?;
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            return Some(&body[6..]);
        }
        at += 2 + length;
    }
    None
}

struct Tiff<'a> {
    bytes: &'a [u8],
    little: bool,
}

struct Entry {
    tag: u16,
    count: u32,
    value_offset: u32,
    value_offset_bytes: [u8; 4],
}

impl Tiff<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let raw: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.little { u16::from_le_bytes(raw) } else { u16::from_be_bytes(raw) })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let raw: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.little { u32::from_le_bytes(raw) } else { u32::from_be_bytes(raw) })
    }

    fn entries(&self, ifd: usize) -> Option<impl Iterator<Item = Entry> + '_> {
        let count = usize::from(self.u16(ifd)?).min(256);
        Some((0..count).filter_map(move |index| {
            let at = ifd + 2 + index * 12;
            Some(Entry { tag: self.u16(at)?, count: self.u32(at + 4)?, value_offset: self.u32(at + 8)?, value_offset_bytes: self.bytes.get(at + 8..at + 12)?.try_into().ok()? })
        }))
    }

    fn rational(&self, at: usize) -> Option<f64> {
        let (numerator, denominator) = (self.u32(at)?, self.u32(at + 4)?);
        (denominator != 0).then(|| f64::from(numerator) / f64::from(denominator))
    }

    /// Degrees, minutes and seconds as three rationals.
    fn degrees(&self, at: usize) -> Option<f64> {
        Some(self.rational(at)? + self.rational(at + 8)? / 60.0 + self.rational(at + 16)? / 3600.0)
    }
}
