//! The tutorial's "Image Processing (Multiprocessing is better)" example, ported: a process
//! per image, each opening it, converting it to grayscale and saving `processed_<name>`.
//!
//! The tutorial's `image1.jpg` and `image2.jpg` are generated first (in a temporary
//! directory, removed at the end). Output, one line per image in whichever order the
//! processes finish, printed by the processes themselves:
//!
//! ```text
//! Processed image1.jpg
//! Processed image2.jpg
//! ```
//!
//! `cargo run --release --example image_processing`

use std::path::Path;

use concur::procs::{Config, ProcessPerTask};
use image::{ImageFormat, RgbImage};

/// What each process runs: the tutorial's `process_image(image_path)`.
fn process_image(task: &[u8], _shared: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let image_path = Path::new(std::str::from_utf8(task).map_err(|e| e.to_string())?);
    let img = image::open(image_path).map_err(|e| e.to_string())?;
    let img = img.to_luma8(); // Convert to grayscale
    let name = image_path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("no file name")?;
    img.save_with_format(
        image_path.with_file_name(format!("processed_{name}")),
        ImageFormat::Jpeg,
    )
    .map_err(|e| e.to_string())?;
    println!("Processed {name}");
    Ok(Vec::new())
}

fn main() {
    // First thing: in the worker processes this runs `process_image` and never returns.
    concur::procs::init(process_image);

    let dir = tempfile::tempdir().expect("temporary directory");
    let image_files = ["image1.jpg", "image2.jpg"];
    for (i, name) in image_files.iter().enumerate() {
        let card = RgbImage::from_fn(256, 256, |x, y| {
            image::Rgb([x as u8, y as u8, 64 * i as u8])
        });
        card.save_with_format(dir.path().join(name), ImageFormat::Jpeg)
            .expect("write the input image");
    }

    // A process per image, all at once (multiprocessing.Process + start + join).
    let processes = ProcessPerTask::new(image_files.len(), Config::default()).expect("processes");
    let tasks: Vec<Vec<u8>> = image_files
        .iter()
        .map(|name| {
            dir.path()
                .join(name)
                .to_string_lossy()
                .into_owned()
                .into_bytes()
        })
        .collect();
    for result in processes.run(&tasks).expect("start the processes") {
        if let Err(e) = result {
            eprintln!("{e}");
        }
    }
}
