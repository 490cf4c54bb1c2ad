//! `shared-sum`: reduce one large array with K workers — the tutorial's "threads share
//! memory; processes each have their own", measured.

use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{Cx, Info, Kind, Params, ParamsError, TaskError, TaskOutput, Workload, mix};

/// Sums a `size`-MiB array of `u64` (wrapping), split into `tasks` equal chunks. In one
/// process every chunk borrows the same array; sent to another process, a chunk carries a
/// copy of its values.
#[derive(Clone, Copy, Debug, Default)]
pub struct SharedSum;

/// The largest `--size`, in MiB.
pub const MAX_MIB: u64 = 4096;

/// How many elements a unit adds between two [`Cx::checkpoint`] calls.
const CHECK_EVERY: usize = 1 << 16;

static INFO: Info = Info {
    name: "shared-sum",
    summary: "sum one SIZE-MiB array of u64 in TASKS chunks (shared by threads, copied to processes)",
    kind: Kind::SharedData,
    default_tasks: 16,
    default_size: 256,
    size_meaning: "MiB of the shared array",
    epilogue: None,
};

/// One task: a chunk of the array.
#[derive(Clone, Debug)]
pub struct Chunk(ChunkData);

#[derive(Clone, Debug)]
enum ChunkData {
    /// A range of the one array, shared (`Arc`) by every chunk in this process.
    Shared {
        all: Arc<[u64]>,
        lo: usize,
        hi: usize,
    },
    /// The values themselves, as received by another process.
    Owned(Vec<u64>),
}

impl Chunk {
    /// The values this task sums.
    pub fn values(&self) -> &[u64] {
        match &self.0 {
            ChunkData::Shared { all, lo, hi } => &all[*lo..*hi],
            ChunkData::Owned(v) => v,
        }
    }
}

impl PartialEq for Chunk {
    fn eq(&self, other: &Self) -> bool {
        self.values() == other.values()
    }
}

/// On the wire a chunk is its values, little-endian, as one byte string: sending a chunk
/// to another process copies it, which is what this workload measures.
impl Serialize for Chunk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self.values().iter().flat_map(|v| v.to_le_bytes()).collect();
        s.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Values;
        impl Visitor<'_> for Values {
            type Value = Chunk;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string of little-endian u64 values")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Chunk, E> {
                if bytes.len() % 8 != 0 {
                    return Err(E::custom(format!(
                        "a chunk of {} bytes is not a whole number of u64 values",
                        bytes.len()
                    )));
                }
                let values = bytes
                    .chunks_exact(8)
                    .map(|b| u64::from_le_bytes(b.try_into().expect("chunks of 8")))
                    .collect();
                Ok(Chunk(ChunkData::Owned(values)))
            }
        }
        d.deserialize_bytes(Values)
    }
}

/// Number of `u64` elements in a `mib`-MiB array.
fn elements(mib: u64) -> usize {
    (mib * (1 << 20) / 8) as usize
}

impl Workload for SharedSum {
    type Input = Chunk;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if !(1..=MAX_MIB).contains(&params.size) {
            return Err(ParamsError(format!(
                "--size for shared-sum is in MiB and must be between 1 and {MAX_MIB}, got {}",
                params.size
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Vec<Chunk> {
        let n = elements(params.size);
        let all: Arc<[u64]> = (0..n as u64).map(mix).collect();
        let (width, rest) = (n / params.tasks, n % params.tasks);
        let mut lo = 0;
        (0..params.tasks)
            .map(|i| {
                let hi = lo + width + usize::from(i < rest);
                let c = Chunk(ChunkData::Shared {
                    all: Arc::clone(&all),
                    lo,
                    hi,
                });
                lo = hi;
                c
            })
            .collect()
    }

    fn run(&self, input: &Chunk, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let values = input.values();
        if values.len() > elements(MAX_MIB) {
            return Err(TaskError::new(format!(
                "a chunk of {} values is too large",
                values.len()
            )));
        }
        let mut sum = 0u64;
        for block in values.chunks(CHECK_EVERY) {
            sum = block.iter().fold(sum, |s, &v| s.wrapping_add(v));
            cx.checkpoint();
        }
        Ok(TaskOutput {
            digest: sum,
            text: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_tile_the_array_and_share_it() {
        let p = Params { tasks: 3, size: 1 };
        let chunks = SharedSum.inputs(&p);
        assert_eq!(
            chunks.iter().map(|c| c.values().len()).sum::<usize>(),
            elements(1)
        );
        let whole: u64 = (0..elements(1) as u64).map(mix).fold(0, u64::wrapping_add);
        let parts = chunks
            .iter()
            .map(|c| SharedSum.run(c, &Cx::quiet()).unwrap().digest)
            .fold(0, u64::wrapping_add);
        assert_eq!(parts, whole);
        match (&chunks[0].0, &chunks[2].0) {
            (ChunkData::Shared { all: a, .. }, ChunkData::Shared { all: b, .. }) => {
                assert!(Arc::ptr_eq(a, b), "one array, borrowed by every chunk");
            }
            _ => panic!("chunks in this process share the array"),
        }
    }

    #[test]
    fn a_chunk_travels_as_a_copy() {
        let chunk = &SharedSum.inputs(&Params { tasks: 4, size: 1 })[1];
        let bytes = postcard::to_allocvec(chunk).unwrap();
        let back: Chunk = postcard::from_bytes(&bytes).unwrap();
        assert!(matches!(back.0, ChunkData::Owned(_)));
        assert_eq!(&back, chunk);
        // A byte string that is not whole u64s is refused.
        let odd = postcard::to_allocvec(&serde_bytes_like(&[1, 2, 3])).unwrap();
        assert!(postcard::from_bytes::<Chunk>(&odd).is_err());
    }

    /// A byte string serialised the way `Chunk` is.
    fn serde_bytes_like(b: &[u8]) -> impl Serialize + '_ {
        struct B<'a>(&'a [u8]);
        impl Serialize for B<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        B(b)
    }
}
