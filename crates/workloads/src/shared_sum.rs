//! `shared-sum`: reduce one large array with K workers — the tutorial's "threads share
//! memory; processes each have their own", measured.

use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{
    Arena, BenchSizes, Cx, Heap, Info, Kind, Params, ParamsError, SharedBytes, TaskError,
    TaskOutput, Workload, mix,
};

/// Sums a `size`-MiB array of `u64` (wrapping), split into `tasks` equal chunks. In one
/// process every chunk borrows the same array; sent to another process, a chunk carries a
/// copy of its values.
#[derive(Clone, Copy, Debug, Default)]
pub struct SharedSum;

/// The largest `--size`, in MiB.
pub(crate) const MAX_MIB: u64 = 4096;

/// How many elements a unit adds between two [`Cx::checkpoint`] calls.
const CHECK_EVERY: usize = 1 << 16;

impl SharedSum {
    /// Its CLI name, for code that names this workload.
    pub const NAME: &'static str = "shared-sum";
}

static INFO: Info = Info {
    name: SharedSum::NAME,
    summary: "sum one SIZE-MiB array of u64 in TASKS chunks (shared by threads, copied to processes)",
    kind: Kind::SharedData,
    default_tasks: 16,
    default_size: 256,
    size_meaning: "MiB of the shared array",
    epilogue: None,
    test_params: &[Params { tasks: 5, size: 1 }, Params { tasks: 1, size: 2 }],
    bench: BenchSizes {
        smoke: Params { tasks: 16, size: 1 },
        quick: Params {
            tasks: 16,
            size: 16,
        },
        full: Params {
            tasks: 16,
            size: 64,
        },
        samples: Some(10),
    },
    bench_description: "Summing one large array of u64 (threads borrow it; `process-pool` and \
                        `process-per-task` receive their chunks as copies over ipc-channel; \
                        `shm-pool` workers map it once from shared memory and receive only chunk \
                        bounds), by number of workers. `concur run --workload shared-sum --json` \
                        gives each model's peak PSS.",
    python: false,
};

/// One task: a chunk of the array.
#[derive(Clone, Debug)]
pub struct Chunk(ChunkData);

#[derive(Clone, Debug)]
enum ChunkData {
    /// A range of the one array, shared (`Arc`) by every chunk in this process. `all` holds
    /// whole, aligned `u64`s (checked when the array is made).
    Shared {
        all: Arc<dyn SharedBytes>,
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
            ChunkData::Shared { all, lo, hi } => {
                &as_values(all.bytes()).expect("checked")[*lo..*hi]
            }
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

/// The bytes of the array as `u64`s: they must be whole and 8-byte aligned.
fn as_values(bytes: &[u8]) -> Result<&[u64], String> {
    bytemuck::try_cast_slice(bytes).map_err(|e| {
        format!(
            "{} bytes are not an aligned array of u64: {e:?}",
            bytes.len()
        )
    })
}

/// A chunk by reference: its element range in the shared array.
#[derive(Serialize, Deserialize)]
struct Range {
    lo: u64,
    hi: u64,
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

    fn inputs(&self, params: &Params) -> Result<Vec<Chunk>, ParamsError> {
        self.inputs_in(params, &Heap)
    }

    fn inputs_in(&self, params: &Params, arena: &dyn Arena) -> Result<Vec<Chunk>, ParamsError> {
        let n = elements(params.size);
        let all = arena
            .alloc(n * 8, &mut |bytes| {
                let values: &mut [u64] = bytemuck::cast_slice_mut(bytes);
                for (i, v) in values.iter_mut().enumerate() {
                    *v = mix(i as u64);
                }
            })
            .map_err(|e| ParamsError(format!("could not allocate the shared array: {e}")))?;
        as_values(all.bytes()).map_err(ParamsError)?;
        let (width, rest) = (n / params.tasks, n % params.tasks);
        let mut lo = 0;
        Ok((0..params.tasks)
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
            .collect())
    }

    fn shared<'a>(&self, inputs: &'a [Chunk]) -> Option<&'a Arc<dyn SharedBytes>> {
        match &inputs.first()?.0 {
            ChunkData::Shared { all, .. } => Some(all),
            ChunkData::Owned(_) => None,
        }
    }

    fn encode_ref(&self, input: &Chunk) -> Option<Vec<u8>> {
        match input.0 {
            ChunkData::Shared { lo, hi, .. } => Some(
                postcard::to_allocvec(&Range {
                    lo: lo as u64,
                    hi: hi as u64,
                })
                .expect("two integers serialise"),
            ),
            ChunkData::Owned(_) => None,
        }
    }

    fn run_ref(
        &self,
        reference: &[u8],
        shared: &[u8],
        cx: &Cx<'_>,
    ) -> Result<TaskOutput, TaskError> {
        let range: Range = postcard::from_bytes(reference)
            .map_err(|e| TaskError::new(format!("shared-sum: undecodable range: {e}")))?;
        let values = as_values(shared).map_err(TaskError::new)?;
        let (lo, hi) = (range.lo as usize, range.hi as usize);
        if range.lo > range.hi || hi > values.len() {
            return Err(TaskError::new(format!(
                "shared-sum: range {}..{} outside an array of {} values",
                range.lo,
                range.hi,
                values.len()
            )));
        }
        sum(&values[lo..hi], cx)
    }

    fn run(&self, input: &Chunk, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let values = input.values();
        if values.len() > elements(MAX_MIB) {
            return Err(TaskError::new(format!(
                "a chunk of {} values is too large",
                values.len()
            )));
        }
        sum(values, cx)
    }
}

/// The unit of work: a wrapping sum, with a GIL checkpoint every [`CHECK_EVERY`] values.
fn sum(values: &[u64], cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
    let mut sum = 0u64;
    for block in values.chunks(CHECK_EVERY) {
        sum = block.iter().fold(sum, |s, &v| s.wrapping_add(v));
        cx.checkpoint();
    }
    Ok(TaskOutput {
        digest: sum,
        text: None,
        data: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_tile_the_array_and_share_it() {
        let p = Params { tasks: 3, size: 1 };
        let chunks = SharedSum.inputs(&p).unwrap();
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
                // By reference, against the same bytes, every chunk sums the same.
                for c in &chunks {
                    let r = SharedSum.encode_ref(c).unwrap();
                    let by_ref = SharedSum.run_ref(&r, a.bytes(), &Cx::quiet()).unwrap();
                    assert_eq!(by_ref, SharedSum.run(c, &Cx::quiet()).unwrap());
                }
            }
            _ => panic!("chunks in this process share the array"),
        }
    }

    #[test]
    fn a_chunk_travels_as_a_copy() {
        let chunk = &SharedSum.inputs(&Params { tasks: 4, size: 1 }).unwrap()[1];
        let bytes = postcard::to_allocvec(chunk).unwrap();
        let back: Chunk = postcard::from_bytes(&bytes).unwrap();
        assert!(matches!(back.0, ChunkData::Owned(_)));
        assert_eq!(&back, chunk);
        // A byte string that is not whole u64s is refused.
        let odd = postcard::to_allocvec(&serde_bytes_like(&[1, 2, 3])).unwrap();
        assert!(postcard::from_bytes::<Chunk>(&odd).is_err());
    }

    #[test]
    fn bad_references_are_errors() {
        let words = [1u64, 2, 3];
        let bytes: &[u8] = bytemuck::cast_slice(&words);
        let cx = Cx::quiet();
        let enc = |lo, hi| postcard::to_allocvec(&Range { lo, hi }).unwrap();
        assert_eq!(SharedSum.run_ref(&enc(1, 3), bytes, &cx).unwrap().digest, 5);
        assert!(SharedSum.run_ref(&enc(2, 1), bytes, &cx).is_err());
        assert!(SharedSum.run_ref(&enc(0, 4), bytes, &cx).is_err());
        assert!(SharedSum.run_ref(&enc(0, u64::MAX), bytes, &cx).is_err());
        assert!(SharedSum.run_ref(&enc(0, 1), &bytes[1..9], &cx).is_err());
        assert!(SharedSum.run_ref(b"", bytes, &cx).is_err());
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
