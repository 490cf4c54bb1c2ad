//! What a concur worker process does: decode a task frame, find the workload by name in the
//! registry, run the input, encode the output.
//!
//! A frame is `[version][flags][name length][name][input]`: every byte of it comes from
//! another process, so every length is checked before use. Flags: bit 0, the unit prints its
//! line (echo); bit 1, the input is a reference into the batch's shared input (`shm-pool`),
//! which the worker has mapped.

use concur_workloads::{Cx, Echo, TaskOutput, by_name};

const FRAME_VERSION: u8 = 2;
const FLAG_ECHO: u8 = 1;
const FLAG_BY_REF: u8 = 2;
/// An encoded output's bytes besides its text and data: the digest and three lengths, as
/// varints (at most 10 bytes each).
const OUTPUT_ROOM: usize = 40;

/// Call first thing in `main` of any program that runs the process models, the process
/// ping-pong probes or `http-fetch`: in a worker process, an echo peer or a loopback HTTP
/// server process this serves and never returns (see `concur_procs::init`,
/// `concur_http::init`).
pub fn init_workers() {
    // Before any peer serves: the `ipc-channel` echo peer receives like a pool's parent does.
    concur_procs::keep_receive_buffers();
    // The `exec-self` floor's child, or a ping-pong echo peer.
    concur_channels::serve_if_child();
    concur_http::init();
    crate::cluster::init_member();
    concur_procs::init(handle);
}

/// How a task's input travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// The input itself, serialised.
    Copied,
    /// A reference into the batch's shared input, which the worker maps.
    ByRef,
}

/// Encodes one task for a worker process.
pub(crate) fn encode_task(workload: &str, echo: Echo, how: Input, input: &[u8]) -> Vec<u8> {
    let mut frame = task_header(workload, echo, how, input.len());
    frame.extend_from_slice(input);
    frame
}

/// A task frame's header, with room for `input_len` bytes of input after it.
pub(crate) fn task_header(workload: &str, echo: Echo, how: Input, input_len: usize) -> Vec<u8> {
    let name = workload.as_bytes();
    let name_len = u8::try_from(name.len()).expect("workload names are short");
    let mut flags = 0;
    if echo == Echo::Stdout {
        flags |= FLAG_ECHO;
    }
    if how == Input::ByRef {
        flags |= FLAG_BY_REF;
    }
    let mut frame = Vec::with_capacity(3 + name.len() + input_len);
    frame.extend_from_slice(&[FRAME_VERSION, flags, name_len]);
    frame.extend_from_slice(name);
    frame
}

/// Splits a frame into workload name, echo, input kind and input, or says what is wrong.
fn decode_task(frame: &[u8]) -> Result<(&str, Echo, Input, &[u8]), String> {
    let [version, flags, name_len, rest @ ..] = frame else {
        return Err(format!("task frame of {} bytes is too short", frame.len()));
    };
    if *version != FRAME_VERSION {
        return Err(format!(
            "task frame version {version}, expected {FRAME_VERSION}"
        ));
    }
    if flags & !(FLAG_ECHO | FLAG_BY_REF) != 0 {
        return Err(format!("task frame flags {flags:#x} are unknown"));
    }
    let echo = if flags & FLAG_ECHO != 0 {
        Echo::Stdout
    } else {
        Echo::Off
    };
    let how = if flags & FLAG_BY_REF != 0 {
        Input::ByRef
    } else {
        Input::Copied
    };
    let name_len = usize::from(*name_len);
    if rest.len() < name_len {
        return Err(format!(
            "task frame names {name_len} bytes of workload name but has {}",
            rest.len()
        ));
    }
    let (name, input) = rest.split_at(name_len);
    let name = std::str::from_utf8(name).map_err(|_| "workload name is not UTF-8".to_owned())?;
    Ok((name, echo, how, input))
}

/// The worker's handler: frame (and the mapped shared input, if any) in, JSON-encoded
/// [`TaskOutput`] out.
/// A worker's handler: runs one task frame, returns its encoded output.
pub(crate) fn handle(frame: &[u8], shared: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let (name, echo, how, input) = decode_task(frame)?;
    let workload = by_name(name).ok_or_else(|| format!("unknown workload '{name}'"))?;
    let cx = match echo {
        Echo::Stdout => Cx::stdout(),
        Echo::Off => Cx::quiet(),
    };
    let output = match (how, shared) {
        (Input::Copied, _) => workload.run_encoded(input, &cx),
        (Input::ByRef, Some(shared)) => workload.run_encoded_ref(input, shared, &cx),
        (Input::ByRef, None) => {
            return Err("a task by reference, but no shared input is mapped".into());
        }
    }
    .map_err(|e| e.message)?;
    // postcard: compact for a unit that sends its result back (`TaskOutput::data`). Sized
    // for the digest, the text and the data at once (no regrowth on the way).
    let room = OUTPUT_ROOM + output.text.as_ref().map_or(0, String::len) + output.data.len();
    postcard::to_extend(&output, Vec::with_capacity(room)).map_err(|e| e.to_string())
}

/// Decodes a worker's reply (bytes from another process: every byte must be used).
pub(crate) fn decode_output(bytes: &[u8]) -> Result<TaskOutput, String> {
    match postcard::take_from_bytes::<TaskOutput>(bytes) {
        Ok((output, [])) => Ok(output),
        Ok((_, rest)) => Err(format!(
            "undecodable task output: {} stray bytes after it",
            rest.len()
        )),
        Err(e) => Err(format!("undecodable task output: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let batch = by_name("primes")
            .unwrap()
            .prepare(&concur_workloads::Params { tasks: 1, size: 10 })
            .unwrap();
        let input = batch.encode(0);
        let f = encode_task("primes", Echo::Off, Input::Copied, &input);
        let (name, echo, how, got) = decode_task(&f).unwrap();
        assert_eq!(
            (name, echo, how, got),
            ("primes", Echo::Off, Input::Copied, &input[..])
        );
        let out = decode_output(&handle(&f, None).unwrap()).unwrap();
        assert_eq!(out.digest, 4); // 2, 3, 5, 7
    }

    #[test]
    fn by_reference_frames_read_the_shared_input() {
        let batch = by_name("shared-sum")
            .unwrap()
            .prepare(&concur_workloads::Params { tasks: 3, size: 1 })
            .unwrap();
        let shared = batch.shared().unwrap();
        let f = encode_task(
            "shared-sum",
            Echo::Off,
            Input::ByRef,
            &batch.encode_ref(2).unwrap(),
        );
        let out = decode_output(&handle(&f, Some(shared.bytes())).unwrap()).unwrap();
        assert_eq!(out, batch.run(2, &Cx::quiet()).unwrap());
        assert!(handle(&f, None).is_err(), "no shared input mapped");
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        for bad in [
            &b""[..],
            &[2, 0],
            &[1, 0, 0],
            &[2, 7, 0],
            &[2, 0, 200, b'p'],
            &[2, 0, 2, 0xff, 0xfe],
            &[2, 0, 4, b'n', b'o', b'p', b'e'],
            &[2, 0, 6, b'p', b'r', b'i', b'm', b'e', b's', b'{'],
            &[2, 2, 6, b'p', b'r', b'i', b'm', b'e', b's', 0],
        ] {
            assert!(handle(bad, None).is_err(), "{bad:?}");
        }
    }
}
