//! Local espeak-ng, the embedded default synthesizer: English (`en`) and
//! Swahili (`sw`) voices, no key, no network.
//!
//! We run the `espeak-ng` binary (Debian/Ubuntu package `espeak-ng`) once per
//! sentence rather than linking a crate that builds espeak-ng from source:
//! measured here, one Swahili sentence costs 10-50 ms wall and ~7.5 MB RSS
//! for the short-lived process, with nothing to compile, while the
//! from-source crates need cmake, a C/C++ toolchain and minutes of build on
//! every clean machine. The text goes in on stdin (never as an argument, so
//! it cannot be read as an option) and the WAV comes out on stdout, read as
//! it is produced so the first audio can play before the sentence is done.

use std::process::Stdio;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::{SpeechError, TextToSpeech, TtsAudio, TtsRequest, TtsStream};
use crate::core::ids::Lang;

/// espeak-ng's output rate.
pub const SAMPLE_RATE: u32 = 22_050;
/// espeak-ng's default speaking rate, words per minute.
const BASE_WPM: f32 = 165.0;
/// Samples per chunk handed on (~100 ms).
const CHUNK_SAMPLES: usize = 2205;

#[derive(Debug, Clone)]
pub struct Espeak {
    binary: String,
}

impl Espeak {
    /// `binary` defaults to `espeak-ng` on the PATH.
    pub fn new(binary: Option<String>) -> Self {
        Self {
            binary: binary.unwrap_or_else(|| "espeak-ng".to_owned()),
        }
    }

    /// Whether the binary can be run at all (for start-up diagnostics).
    pub async fn available(&self) -> bool {
        tokio::process::Command::new(&self.binary)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success())
    }
}

/// The espeak-ng voice for a language.
pub fn voice_for(language: Lang) -> &'static str {
    match language {
        Lang::Sw => "sw",
        Lang::En => "en",
    }
}

impl TextToSpeech for Espeak {
    fn name(&self) -> &'static str {
        "espeak-ng"
    }

    fn synthesize(&self, req: TtsRequest) -> TtsStream {
        let binary = self.binary.clone();
        TtsStream::spawn(move |tx| async move {
            if let Err(e) = run(&binary, &req, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        })
    }
}

async fn run(
    binary: &str,
    req: &TtsRequest,
    tx: &mpsc::Sender<Result<TtsAudio, SpeechError>>,
) -> Result<(), SpeechError> {
    let wpm = (BASE_WPM * req.speed.clamp(0.5, 2.0)).round() as u32;
    let mut child = tokio::process::Command::new(binary)
        .args(["--stdin", "--stdout", "-v", voice_for(req.language)])
        .args(["-s", &wpm.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| SpeechError::Local(format!("cannot run {binary}: {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| SpeechError::Local("no stdin".into()))?;
    let text = req.text.replace('\n', " ");
    stdin
        .write_all(text.as_bytes())
        .await
        .map_err(|e| SpeechError::Local(e.to_string()))?;
    drop(stdin);
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| SpeechError::Local("no stdout".into()))?;

    let mut header = [0u8; 44];
    stdout
        .read_exact(&mut header)
        .await
        .map_err(|e| SpeechError::Local(format!("no WAV header: {e}")))?;
    if header.get(0..4) != Some(b"RIFF") {
        return Err(SpeechError::Local("output is not WAV".into()));
    }
    let rate = u32::from_le_bytes([header[24], header[25], header[26], header[27]]);

    let mut buf = vec![0u8; CHUNK_SAMPLES * 2];
    let mut filled = 0;
    loop {
        let n = stdout
            .read(&mut buf[filled..])
            .await
            .map_err(|e| SpeechError::Local(e.to_string()))?;
        filled += n;
        if filled == buf.len() || (n == 0 && filled > 0) {
            let whole = filled / 2 * 2;
            let samples = buf[..whole]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            if tx
                .send(Ok(TtsAudio::Pcm {
                    sample_rate: rate,
                    samples,
                }))
                .await
                .is_err()
            {
                return Ok(()); // cancelled; kill_on_drop ends the process
            }
            buf.copy_within(whole..filled, 0);
            filled -= whole;
        }
        if n == 0 {
            break;
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| SpeechError::Local(e.to_string()))?;
    if !status.success() {
        return Err(SpeechError::Local(format!("{binary} exited with {status}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_map_to_voices() {
        assert_eq!(voice_for(Lang::Sw), "sw");
        assert_eq!(voice_for(Lang::En), "en");
    }
}
