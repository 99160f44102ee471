//! A screenshot of a rendered page: is it a picture of something?
//!
//! A failed render leaves no file, an empty file, or one flat colour (a
//! white page); a page with text and diagrams has many colours, because
//! text is anti-aliased, and no colour covers nearly all of it.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::Path;

/// Smaller than this, a 1280-pixel-wide PNG cannot hold a page of text.
pub const MIN_BYTES: u64 = 8 * 1024;

/// If one colour covers more than this share of the pixels, the page is
/// (nearly) blank.
pub const MAX_BACKGROUND_SHARE: f64 = 0.995;

pub fn check(shot: &Path) -> Result<String, String> {
    check_with(shot, MIN_BYTES)
}

pub fn check_with(shot: &Path, min_bytes: u64) -> Result<String, String> {
    let size = std::fs::metadata(shot)
        .map_err(|e| format!("no screenshot: {e}"))?
        .len();
    if size < min_bytes {
        return Err(format!(
            "{size} bytes, too small for a page (at least {min_bytes})"
        ));
    }
    let (width, height, pixels) = decode(shot)?;
    let colours = colour_counts(&pixels);
    let (_, background) = colours
        .iter()
        .max_by_key(|(_, count)| **count)
        .ok_or("the image has no pixels")?;
    let share = f64::from(*background) / pixels.len() as f64;
    if colours.len() < 2 || share > MAX_BACKGROUND_SHARE {
        return Err(format!(
            "{width}x{height} pixels, {:.1}% of them one colour: a blank page",
            share * 100.0
        ));
    }
    Ok(format!(
        "{width}x{height} pixels, {size} bytes, {} colours",
        colours.len()
    ))
}

/// Width, height and RGBA pixels, whatever the PNG's own colour type.
fn decode(path: &Path) -> Result<(u32, u32, Vec<[u8; 4]>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| format!("not a PNG: {e}"))?;
    let mut buffer = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or("the image is too large")?
    ];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|e| format!("a broken PNG: {e}"))?;
    let bytes = &buffer[..frame.buffer_size()];
    let pixels = match frame.color_type {
        png::ColorType::Rgba => bytes
            .chunks_exact(4)
            .map(|p| [p[0], p[1], p[2], p[3]])
            .collect(),
        png::ColorType::Rgb => bytes
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => bytes
            .chunks_exact(2)
            .map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => bytes.iter().map(|g| [*g, *g, *g, 255]).collect(),
        other => {
            return Err(format!(
                "unexpected colour type {other:?} after normalising"
            ));
        }
    };
    Ok((frame.width, frame.height, pixels))
}

fn colour_counts(pixels: &[[u8; 4]]) -> HashMap<[u8; 4], u32> {
    let mut counts = HashMap::new();
    for pixel in pixels {
        *counts.entry(*pixel).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Write a `width` x `height` RGB PNG whose pixel (x, y) is `colour(x, y)`.
    fn png(
        name: &str,
        width: u32,
        height: u32,
        colour: impl Fn(u32, u32) -> [u8; 3],
    ) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("nslab-shot-{}-{name}.png", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let data: Vec<u8> = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| colour(x, y))
            .collect();
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&data)
            .unwrap();
        path
    }

    #[test]
    fn one_flat_colour_is_a_blank_page() {
        let white = png("white", 64, 64, |_, _| [255, 255, 255]);
        assert!(check_with(&white, 0).unwrap_err().contains("a blank page"));
        let _ = std::fs::remove_file(white);
    }

    #[test]
    fn text_on_a_page_is_a_picture() {
        // Every fourth row dark: like lines of text.
        let lines = png("lines", 64, 64, |x, y| {
            if y % 4 == 0 && x > 8 {
                [20, 20, 20]
            } else {
                [255, 255, 255]
            }
        });
        assert!(check_with(&lines, 0).is_ok());
        let _ = std::fs::remove_file(lines);
    }

    #[test]
    fn a_missing_or_tiny_screenshot_fails() {
        let missing = std::env::temp_dir().join("nslab-shot-does-not-exist.png");
        assert!(check(&missing).unwrap_err().starts_with("no screenshot"));
        let tiny = png("tiny", 8, 8, |x, _| [x as u8 * 30, 0, 0]);
        assert!(check(&tiny).unwrap_err().contains("too small"));
        let _ = std::fs::remove_file(tiny);
    }
}
