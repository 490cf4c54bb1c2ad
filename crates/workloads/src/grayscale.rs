//! `grayscale`: the tutorial's Pillow example — open a JPEG, convert it to grayscale, save
//! `processed_<name>` — on images generated deterministically into a temporary directory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::{ImageFormat, ImageReader, Limits, RgbImage};
use serde::{Deserialize, Serialize};

use crate::{
    BenchSizes, Cx, Info, Kind, Params, ParamsError, TaskError, TaskOutput, Workload, mix,
};

/// Each task decodes one `SIZE`×`SIZE` RGB JPEG, converts it to luma and writes it back as
/// `processed_image_<i>.jpg`; the digest covers the luma pixels. Preparing a batch writes the
/// images into a fresh temporary directory, removed when the batch's last input is dropped
/// (or by [`remove_temp_dirs`] from a signal handler).
#[derive(Clone, Copy, Debug, Default)]
pub struct Grayscale;

/// The largest image side, in pixels.
pub(crate) const MAX_SIDE: u64 = 8192;
/// The smallest image side, in pixels.
pub(crate) const MIN_SIDE: u64 = 8;
/// The most images in one batch.
pub(crate) const MAX_IMAGES: usize = 4096;

/// The prefix of every temporary directory this workload creates.
const DIR_PREFIX: &str = "concur-grayscale-";

impl Grayscale {
    /// Its CLI name, for code that names this workload.
    pub const NAME: &'static str = "grayscale";
}

static INFO: Info = Info {
    name: Grayscale::NAME,
    summary: "decode a SIZE×SIZE JPEG, convert it to grayscale, save processed_<name> (the tutorial's Pillow example)",
    kind: Kind::CpuBound,
    default_tasks: 16,
    default_size: 1024,
    size_meaning: "the images' side in pixels",
    epilogue: None,
    test_params: &[Params { tasks: 3, size: 24 }],
    bench: BenchSizes {
        smoke: Params { tasks: 2, size: 32 },
        quick: Params { tasks: 4, size: 96 },
        full: Params {
            tasks: 16,
            size: 384,
        },
        samples: Some(10),
    },
    bench_description: "The tutorial's Pillow example: decode a JPEG, convert it to grayscale, encode \
                        `processed_<name>`, one image per task, by number of workers. Under \
                        `gil-threads` the decode, convert and encode release the emulated GIL, as \
                        Pillow's C code does.",
    python: false,
};

/// Temporary directories alive in this process, for [`remove_temp_dirs`].
static LIVE_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary directory `grayscale` batches of this process still hold: for a
/// signal handler about to exit the process (destructors will not run).
///
/// Other threads may still be converting into a directory (the process is about to exit,
/// not to join them): it is first renamed away, so no new file can be created under its
/// path, then removed, again while a file opened before the rename keeps appearing.
pub fn remove_temp_dirs() {
    let dirs = LIVE_DIRS.lock().unwrap_or_else(|e| e.into_inner());
    for d in dirs.iter() {
        let mut doomed = d.clone().into_os_string();
        doomed.push(".removing");
        let doomed = PathBuf::from(doomed);
        let target = if std::fs::rename(d, &doomed).is_ok() {
            doomed
        } else {
            d.clone()
        };
        for _ in 0..20 {
            if std::fs::remove_dir_all(&target).is_ok() || !target.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// A batch's image directory: removed when dropped.
#[derive(Debug)]
struct ImageDir(tempfile::TempDir);

impl ImageDir {
    fn create() -> std::io::Result<ImageDir> {
        // In the user's temporary directory (`TMPDIR` or `/tmp`) even when the program has
        // moved tempfile's default to a tmpfs (`concur_procs::handshakes_on_tmpfs`): the
        // workload reads and writes files where files usually are.
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(std::env::temp_dir())?;
        LIVE_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(dir.path().to_owned());
        Ok(ImageDir(dir))
    }
}

impl Drop for ImageDir {
    fn drop(&mut self) {
        let mut dirs = LIVE_DIRS.lock().unwrap_or_else(|e| e.into_inner());
        dirs.retain(|d| d != self.0.path());
        // `TempDir`'s own drop removes the directory and everything in it.
    }
}

/// One task: an image to convert. Sent to another process it is its index and path; in this
/// process it also keeps the directory alive.
#[derive(Clone, Debug)]
pub struct Photo {
    /// The task's position.
    pub index: u64,
    /// `<tmp>/concur-grayscale-XXXX/image_<index>.jpg`.
    pub path: PathBuf,
    dir: Option<Arc<ImageDir>>,
}

impl Photo {
    /// The directory the batch's images are in, while this process holds it.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref().map(|d| d.0.path())
    }
}

impl PartialEq for Photo {
    fn eq(&self, other: &Self) -> bool {
        (self.index, &self.path) == (other.index, &other.path)
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    index: u64,
    path: String,
}

impl Serialize for Photo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let path = self
            .path
            .to_str()
            .ok_or_else(|| serde::ser::Error::custom("image path is not UTF-8"))?;
        Wire {
            index: self.index,
            path: path.to_owned(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Photo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(Photo {
            index: w.index,
            path: PathBuf::from(w.path),
            dir: None,
        })
    }
}

/// The deterministic test card for image `index`: gradients, rings and some noise, so the
/// JPEG has real content to decode.
fn test_card(index: u64, side: u32) -> RgbImage {
    RgbImage::from_fn(side, side, |x, y| {
        let (fx, fy) = (x as f32 / side as f32, y as f32 / side as f32);
        let ring = (((fx - 0.5).powi(2) + (fy - 0.5).powi(2)).sqrt() * 40.0 + index as f32).sin();
        let noise = (mix(index << 40 ^ u64::from(y) << 20 ^ u64::from(x)) & 31) as f32;
        image::Rgb([
            (fx * 200.0 + noise) as u8,
            (fy * 200.0 + noise) as u8,
            ((ring + 1.0) * 100.0 + noise) as u8,
        ])
    })
}

/// Checks that `path` is one of this workload's images (`…/concur-grayscale-*/image_<index>.jpg`):
/// the path may come from another process, which must not make us read or write elsewhere.
fn check_path(path: &Path, index: u64) -> Result<(&Path, String), TaskError> {
    let name = format!("image_{index}.jpg");
    let dir = path.parent().filter(|d| {
        d.is_absolute()
            && d.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(DIR_PREFIX))
    });
    match (dir, path.file_name().and_then(|n| n.to_str())) {
        (Some(dir), Some(n)) if n == name && !path.components().any(|c| c.as_os_str() == "..") => {
            Ok((dir, name))
        }
        _ => Err(TaskError::new(format!(
            "grayscale: {} is not image {index} of a concur-grayscale directory",
            path.display()
        ))),
    }
}

impl Workload for Grayscale {
    type Input = Photo;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if !(MIN_SIDE..=MAX_SIDE).contains(&params.size) {
            return Err(ParamsError(format!(
                "--size for grayscale is the images' side in pixels, from {MIN_SIDE} to {MAX_SIDE}, got {}",
                params.size
            )));
        }
        if params.tasks > MAX_IMAGES {
            return Err(ParamsError(format!(
                "--tasks for grayscale (images) must be at most {MAX_IMAGES}, got {}",
                params.tasks
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<Photo>, ParamsError> {
        let fail = |e: String| ParamsError(format!("could not write the grayscale images: {e}"));
        let dir = Arc::new(ImageDir::create().map_err(|e| fail(e.to_string()))?);
        let side = params.size as u32;
        (0..params.tasks as u64)
            .map(|index| {
                let path = dir.0.path().join(format!("image_{index}.jpg"));
                test_card(index, side)
                    .save_with_format(&path, ImageFormat::Jpeg)
                    .map_err(|e| fail(e.to_string()))?;
                Ok(Photo {
                    index,
                    path,
                    dir: Some(Arc::clone(&dir)),
                })
            })
            .collect()
    }

    fn run(&self, input: &Photo, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let (dir, name) = check_path(&input.path, input.index)?;
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            TaskError::new(format!("grayscale: {what} {}: {e}", input.path.display()))
        };
        // Decoding, converting and encoding are native code that releases the GIL in
        // CPython's Pillow; the checkpoint between them is the interpreter's.
        let mut reader = ImageReader::open(&input.path).map_err(|e| fail("opening", &e))?;
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE as u32);
        limits.max_image_height = Some(MAX_SIDE as u32);
        reader.limits(limits);
        reader.set_format(ImageFormat::Jpeg);
        let img = cx
            .native(|| reader.decode())
            .map_err(|e| fail("decoding", &e))?;
        cx.checkpoint();
        let gray = cx.native(|| img.to_luma8());
        cx.checkpoint();
        let out = dir.join(format!("processed_{name}"));
        cx.native(|| gray.save_with_format(&out, ImageFormat::Jpeg))
            .map_err(|e| fail("writing the output of", &e))?;
        let fnv = gray
            .as_raw()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        let line = format!("Processed {name}");
        cx.print_line(&line);
        Ok(TaskOutput {
            digest: mix(fnv ^ mix(input.index)),
            text: Some(line),
            data: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_writes_and_cleans_up() {
        let photos = Grayscale.inputs(&Params { tasks: 2, size: 64 }).unwrap();
        let dir = photos[0].dir().unwrap().to_owned();
        let a = Grayscale.run(&photos[1], &Cx::quiet()).unwrap();
        let b = Grayscale.run(&photos[1], &Cx::quiet()).unwrap();
        assert_eq!(a, b, "deterministic");
        assert_eq!(a.text.as_deref(), Some("Processed image_1.jpg"));
        assert!(dir.join("processed_image_1.jpg").is_file());
        assert_ne!(a, Grayscale.run(&photos[0], &Cx::quiet()).unwrap());
        drop(photos);
        assert!(
            !dir.exists(),
            "the temporary directory is removed with the batch"
        );
    }

    #[test]
    fn paths_from_elsewhere_are_refused() {
        let photos = Grayscale.inputs(&Params { tasks: 1, size: 16 }).unwrap();
        let dir = photos[0].dir().unwrap().to_owned();
        for (index, path) in [
            (0, PathBuf::from("/etc/passwd")),
            (0, dir.join("image_1.jpg")),
            (0, dir.join("../image_0.jpg")),
            (0, PathBuf::from("image_0.jpg")),
            (0, PathBuf::from("/tmp/other/image_0.jpg")),
        ] {
            let p = Photo {
                index,
                path,
                dir: None,
            };
            assert!(Grayscale.run(&p, &Cx::quiet()).is_err(), "{:?}", p.path);
        }
        // A corrupt image is an error, not a panic.
        std::fs::write(dir.join("image_0.jpg"), b"not a jpeg").unwrap();
        assert!(Grayscale.run(&photos[0], &Cx::quiet()).is_err());
    }
}
