//! A map tile server the browser tests start: every tile is drawn on request, a checkered
//! background with a border and its own `z/x/y` printed on it, so a screenshot shows which
//! tiles the map asked for and where the pin stands. Plain HTTP/1.1 on loopback; it records
//! every path asked for.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The running tile server.
pub struct TileServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    requested: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TileServer {
    /// Starts it on a random port.
    pub async fn start() -> anyhow::Result<TileServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let requested = Arc::new(Mutex::new(Vec::new()));
        let log = requested.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, log.clone()));
            }
        });
        Ok(TileServer { port, requested, task })
    }

    /// The URL template of its tiles, on the subdomains `a` and `b` of `tiles.localhost`
    /// (which the browser resolves to loopback), so the map's `{s}` is exercised too.
    pub fn template(&self) -> String {
        format!("http://{{s}}.tiles.localhost:{}/{{z}}/{{x}}/{{y}}.png", self.port)
    }

    /// The paths asked for so far.
    pub fn requested(&self) -> Vec<String> {
        self.requested.lock().map(|paths| paths.clone()).unwrap_or_default()
    }
}

async fn answer(mut stream: tokio::net::TcpStream, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let tile: Vec<u32> = path.trim_start_matches('/').trim_end_matches(".png").split('/').filter_map(|part| part.parse().ok()).collect();
    let response = match tile.as_slice() {
        [z, x, y] => {
            if let Ok(mut paths) = log.lock() {
                paths.push(path.clone());
            }
            let png = draw(*z, *x, *y);
            let mut response = format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n", png.len()).into_bytes();
            response.extend_from_slice(&png);
            response
        }
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

/// A 3×5 pixel font for the digits and `/`.
fn glyph(character: char) -> [u8; 5] {
    match character {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b001, 0b001, 0b001],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '/' => [0b001, 0b001, 0b010, 0b100, 0b100],
        _ => [0; 5],
    }
}

/// The tile `z/x/y` as PNG bytes.
fn draw(z: u32, x: u32, y: u32) -> Vec<u8> {
    use image::ImageEncoder;
    const SIZE: u32 = 256;
    const SCALE: u32 = 3;
    let background = if (x + y).is_multiple_of(2) { image::Rgb([232, 240, 224]) } else { image::Rgb([221, 232, 244]) };
    let mut tile = image::RgbImage::from_pixel(SIZE, SIZE, background);
    for i in 0..SIZE {
        for (px, py) in [(i, 0), (i, SIZE - 1), (0, i), (SIZE - 1, i)] {
            tile.put_pixel(px, py, image::Rgb([120, 120, 120]));
        }
    }
    let label = format!("{z}/{x}/{y}");
    for (index, character) in label.chars().enumerate() {
        let left = 8 + index as u32 * 4 * SCALE;
        for (row, bits) in glyph(character).iter().enumerate() {
            for column in 0..3 {
                if bits & (0b100 >> column) != 0 {
                    for dy in 0..SCALE {
                        for dx in 0..SCALE {
                            tile.put_pixel(left + column * SCALE + dx, 8 + row as u32 * SCALE + dy, image::Rgb([40, 40, 40]));
                        }
                    }
                }
            }
        }
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png).write_image(tile.as_raw(), SIZE, SIZE, image::ExtendedColorType::Rgb8).expect("a tile encodes");
    png
}
