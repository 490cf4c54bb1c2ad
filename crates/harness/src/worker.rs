//! What a concur worker process does: decode a task frame, find the workload by name in the
//! registry, run the input, encode the output.
//!
//! A frame is `[version][echo][name length][name][input]`: every byte of it comes from
//! another process, so every length is checked before use.

use concur_workloads::{Cx, Echo, TaskOutput, by_name};

const FRAME_VERSION: u8 = 1;

/// Call first thing in `main` of any program that runs the process models or the process
/// ping-pong probes: in a worker process (or an echo peer) this serves and never returns
/// (see `concur_procs::init`).
pub fn init_workers() {
    if let Some(spec) = std::env::var_os(crate::pingpong::ECHO_ENV) {
        let code = match spec.to_str().map(crate::pingpong::serve_echo) {
            Some(Ok(())) => 0,
            Some(Err(e)) => {
                eprintln!("concur echo peer: {e}");
                1
            }
            None => 2,
        };
        std::process::exit(code);
    }
    concur_procs::init(handle);
}

/// Encodes one task for a worker process.
pub(crate) fn encode_task(workload: &str, echo: Echo, input: &[u8]) -> Vec<u8> {
    let name = workload.as_bytes();
    let name_len = u8::try_from(name.len()).expect("workload names are short");
    let mut frame = Vec::with_capacity(3 + name.len() + input.len());
    frame.extend_from_slice(&[FRAME_VERSION, u8::from(echo == Echo::Stdout), name_len]);
    frame.extend_from_slice(name);
    frame.extend_from_slice(input);
    frame
}

/// Splits a frame into workload name, echo and input, or says what is wrong with it.
fn decode_task(frame: &[u8]) -> Result<(&str, Echo, &[u8]), String> {
    let [version, echo, name_len, rest @ ..] = frame else {
        return Err(format!("task frame of {} bytes is too short", frame.len()));
    };
    if *version != FRAME_VERSION {
        return Err(format!(
            "task frame version {version}, expected {FRAME_VERSION}"
        ));
    }
    let echo = match echo {
        0 => Echo::Off,
        1 => Echo::Stdout,
        other => return Err(format!("task frame echo flag {other} is not 0 or 1")),
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
    Ok((name, echo, input))
}

/// The worker's handler: frame in, JSON-encoded [`TaskOutput`] out.
fn handle(frame: &[u8]) -> Result<Vec<u8>, String> {
    let (name, echo, input) = decode_task(frame)?;
    let workload = by_name(name).ok_or_else(|| format!("unknown workload '{name}'"))?;
    let cx = match echo {
        Echo::Stdout => Cx::stdout(),
        Echo::Off => Cx::quiet(),
    };
    let output = workload.run_encoded(input, &cx).map_err(|e| e.message)?;
    serde_json::to_vec(&output).map_err(|e| e.to_string())
}

/// Decodes a worker's reply.
pub(crate) fn decode_output(bytes: &[u8]) -> Result<TaskOutput, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("undecodable task output: {e}"))
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
        let f = encode_task("primes", Echo::Off, &input);
        let (name, echo, got) = decode_task(&f).unwrap();
        assert_eq!((name, echo, got), ("primes", Echo::Off, &input[..]));
        let out = decode_output(&handle(&f).unwrap()).unwrap();
        assert_eq!(out.digest, 4); // 2, 3, 5, 7
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        for bad in [
            &b""[..],
            &[1, 0],
            &[2, 0, 0],
            &[1, 7, 0],
            &[1, 0, 200, b'p'],
            &[1, 0, 2, 0xff, 0xfe],
            &[1, 0, 4, b'n', b'o', b'p', b'e'],
            &[1, 0, 6, b'p', b'r', b'i', b'm', b'e', b's', b'{'],
        ] {
            assert!(handle(bad).is_err(), "{bad:?}");
        }
    }
}
