//! `word-freq`: word frequencies over a generated text corpus, a workload defined outside
//! concur (the worked example of the README's "Measure your own code").
//!
//! The corpus is generated deterministically (`--size` KiB of lower-case words drawn from a
//! Zipf-like vocabulary) and cut into `--tasks` chunks at word boundaries. Each unit
//! tokenises its chunk into a hash map (allocation-heavy: a thread pool's units share one
//! allocator, processes have a heap each) and sends the whole map back (`TaskOutput::data`,
//! tens of KiB per chunk: the result, not just a digest, crosses the process boundary);
//! [`Workload::merge`] adds the maps up and digests the merged counts, so every model must
//! produce the same merged frequencies as `sequential`.
//!
//! ```
//! use concur::workloads::{Params, Workload};
//! use word_freq::WORD_FREQ;
//!
//! let batch = concur::workloads::AnyWorkload::prepare(&WORD_FREQ, &Params { tasks: 3, size: 64 })
//!     .unwrap();
//! assert_eq!(batch.len(), 3);
//! ```

use std::collections::HashMap;

use concur::workloads::{
    BenchSizes, Cx, Info, Kind, Params, ParamsError, TaskError, TaskOutput, Workload, mix,
};
use serde::{Deserialize, Serialize};

/// The workload; register it with `concur::main_with(&[&WORD_FREQ])`.
pub static WORD_FREQ: WordFreq = WordFreq;

/// Word frequencies over a generated corpus.
pub struct WordFreq;

impl WordFreq {
    /// Its CLI name.
    pub const NAME: &'static str = "word-freq";
}

/// The largest corpus, KiB (256 MiB).
const MAX_KIB: u64 = 256 * 1024;

static INFO: Info = Info {
    name: WordFreq::NAME,
    summary: "count the words of SIZE KiB of generated text, in TASKS chunks, and merge the counts",
    kind: Kind::CpuBound,
    default_tasks: 16,
    default_size: 32 * 1024,
    size_meaning: "KiB of text",
    epilogue: None,
    test_params: &[Params { tasks: 3, size: 64 }, Params { tasks: 5, size: 7 }],
    bench: BenchSizes {
        smoke: Params {
            tasks: 4,
            size: 256,
        },
        quick: Params {
            tasks: 16,
            size: 8 * 1024,
        },
        full: Params {
            tasks: 16,
            size: 32 * 1024,
        },
        samples: None,
    },
    bench_description: "Counting the words of a generated corpus into hash maps (CPU- and \
                        allocation-bound; each chunk's map travels back and is merged), by \
                        number of workers.",
    python: false,
};

/// One chunk of the corpus.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Chunk {
    /// The text: lower-case ASCII words separated by single spaces.
    pub text: String,
}

/// The vocabulary: `VOCAB` words, the i-th drawn with weight about `1 / (i + 1)`.
const VOCAB: u64 = 20_000;

/// The `i`-th word of the vocabulary (letters from its index, 2–12 long).
fn word(i: u64) -> String {
    let mut z = mix(i ^ 0x5eed);
    let len = 2 + (z % 11) as usize;
    let mut w = String::with_capacity(len);
    for _ in 0..len {
        z = mix(z);
        w.push((b'a' + (z % 26) as u8) as char);
    }
    w
}

/// `kib` KiB of text, deterministic.
fn corpus(kib: u64) -> String {
    let vocab: Vec<String> = (0..VOCAB).map(word).collect();
    let target = (kib * 1024) as usize;
    let mut text = String::with_capacity(target + 16);
    let mut z = 0x0123_4567_89ab_cdefu64;
    while text.len() < target {
        z = mix(z);
        // Zipf-like: the square of a uniform index favours the first words.
        let u = (z >> 11) as f64 / (1u64 << 53) as f64;
        let i = ((u * u * u) * VOCAB as f64) as usize;
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&vocab[i.min(vocab.len() - 1)]);
    }
    text
}

/// The counts of one chunk, sorted by word (the wire form of a unit's result).
type Counts = Vec<(String, u64)>;

/// A digest of sorted counts.
fn digest(counts: &[(String, u64)]) -> u64 {
    counts.iter().fold(0x9e37_79b9, |acc, (w, n)| {
        let h = w.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        mix(acc ^ mix(h ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d)))
    })
}

impl Workload for WordFreq {
    type Input = Chunk;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if params.size == 0 || params.size > MAX_KIB {
            return Err(ParamsError(format!(
                "--size for word-freq is KiB of text, from 1 to {MAX_KIB}, got {}",
                params.size
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<Chunk>, ParamsError> {
        let text = corpus(params.size);
        // Cut at spaces near each 1/tasks mark, so no word is split.
        let n = params.tasks;
        let mut chunks = Vec::with_capacity(n);
        let mut start = 0;
        for i in 1..=n {
            let mut end = if i == n {
                text.len()
            } else {
                (text.len() * i / n).max(start)
            };
            while end < text.len() && text.as_bytes()[end] != b' ' {
                end += 1;
            }
            chunks.push(Chunk {
                text: text[start..end].trim().to_owned(),
            });
            start = end;
        }
        Ok(chunks)
    }

    fn run(&self, input: &Chunk, _cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        // Decoded from another process: only the words we generate are valid.
        if !input
            .text
            .bytes()
            .all(|b| b == b' ' || b.is_ascii_lowercase())
        {
            return Err(TaskError::new(
                "a chunk with characters the corpus never has",
            ));
        }
        let mut map: HashMap<&str, u64> = HashMap::new();
        for w in input.text.split_ascii_whitespace() {
            *map.entry(w).or_insert(0) += 1;
        }
        let mut counts: Counts = map.into_iter().map(|(w, n)| (w.to_owned(), n)).collect();
        counts.sort_unstable();
        let data = postcard::to_allocvec(&counts)
            .map_err(|e| TaskError::new(format!("encoding the counts: {e}")))?;
        Ok(TaskOutput {
            digest: digest(&counts),
            text: None,
            data,
        })
    }

    fn merge(&self, outputs: &[TaskOutput]) -> u64 {
        let mut total: HashMap<String, u64> = HashMap::new();
        for out in outputs {
            // From a worker process: a result that does not decode, or whose digest does not
            // match its counts, makes the checksum wrong rather than the program panic.
            let Ok(counts) = postcard::from_bytes::<Counts>(&out.data) else {
                return 0;
            };
            if digest(&counts) != out.digest {
                return 0;
            }
            for (w, n) in counts {
                *total.entry(w).or_insert(0) += n;
            }
        }
        let mut merged: Counts = total.into_iter().collect();
        merged.sort_unstable();
        digest(&merged)
    }
}

/// The most frequent words of `text`, for a reader who wants to see the result.
pub fn top_words(text: &str, k: usize) -> Vec<(String, u64)> {
    let mut map: HashMap<&str, u64> = HashMap::new();
    for w in text.split_ascii_whitespace() {
        *map.entry(w).or_insert(0) += 1;
    }
    let mut v: Vec<(String, u64)> = map.into_iter().map(|(w, n)| (w.to_owned(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use concur::workloads::AnyWorkload;

    #[test]
    fn chunks_cover_the_corpus_without_splitting_words() {
        let p = Params { tasks: 5, size: 7 };
        let chunks = WORD_FREQ.inputs(&p).unwrap();
        let joined: Vec<&str> = chunks.iter().flat_map(|c| c.text.split(' ')).collect();
        let whole = corpus(7);
        assert_eq!(joined, whole.split(' ').collect::<Vec<_>>());
    }

    #[test]
    fn merged_counts_do_not_depend_on_the_chunking() {
        let digest_for = |tasks| {
            let b = AnyWorkload::prepare(&WORD_FREQ, &Params { tasks, size: 64 }).unwrap();
            let outs: Vec<TaskOutput> = (0..b.len())
                .map(|i| b.run(i, &Cx::reference()).unwrap())
                .collect();
            b.checksum_of(&outs)
        };
        assert_eq!(digest_for(1), digest_for(7));
        assert_ne!(digest_for(1), 0);
    }

    #[test]
    fn a_tampered_result_changes_the_checksum() {
        let b = AnyWorkload::prepare(&WORD_FREQ, &Params { tasks: 2, size: 16 }).unwrap();
        let mut outs: Vec<TaskOutput> = (0..b.len())
            .map(|i| b.run(i, &Cx::reference()).unwrap())
            .collect();
        let good = b.checksum_of(&outs);
        outs[1].data.truncate(3);
        assert_ne!(b.checksum_of(&outs), good);
        assert!(
            WORD_FREQ
                .run(
                    &Chunk {
                        text: "ok NOPE".into()
                    },
                    &Cx::reference()
                )
                .is_err()
        );
    }

    #[test]
    fn the_vocabulary_is_skewed() {
        let top = top_words(&corpus(64), 3);
        assert!(top[0].1 > top[2].1, "{top:?}");
    }
}
