//! The local recognizer (Whisper tiny.en through whisper.cpp, feature
//! `local-whisper`) on real recorded English speech from the corpus (8 kHz
//! telephone audio, CMU/LibriVox excerpts): each utterance, cut at its
//! transcript's word times, must come back with its words, and a call's
//! per-utterance stream must put them on the call's clock.
//!
//! Needs the model file `scripts/bootstrap` makes (`~/.cache/ratiba/` or
//! `RATIBA_WHISPER_MODEL`). Prints the inference time of each utterance
//! (measured, not asserted: speed is the benches' business).
#![cfg(feature = "local-whisper")]

use std::path::PathBuf;
use std::sync::OnceLock;

use ratiba::adapters::speech::local_whisper::{self, LocalWhisper};
use ratiba::adapters::speech::{SpeechToText, SttEvent, SttOptions};
use ratiba::core::audio::wav;
use ratiba::core::ids::Lang;

fn model() -> &'static LocalWhisper {
    static MODEL: OnceLock<LocalWhisper> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = std::env::var_os(local_whisper::MODEL_ENV)
            .map(PathBuf::from)
            .or_else(local_whisper::default_model_path)
            .expect("no HOME to find the model under");
        LocalWhisper::load(&path).unwrap_or_else(|e| {
            panic!("{e}: run scripts/bootstrap (it makes the local recognizer's model)")
        })
    })
}

/// A corpus recording and its transcript's words with their times.
fn corpus(name: &str) -> (wav::Wav, Vec<(String, u64, u64)>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    let audio = wav::parse(&std::fs::read(dir.join(format!("{name}.wav"))).unwrap()).unwrap();
    let t: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("{name}.transcript.json"))).unwrap(),
    )
    .unwrap();
    let words = t["words"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["speaker"].as_str().is_none_or(|s| s == "caller"))
        .map(|w| {
            (
                w["text"].as_str().unwrap().to_owned(),
                w["start_ms"].as_u64().unwrap(),
                w["end_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    (audio, words)
}

/// Lower case, letters and digits only, number words as digits ("ten" and
/// "10" are the same answer; Whisper writes digits).
fn normalize(text: &str) -> Vec<String> {
    const NUMBERS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .map(|w| match NUMBERS.iter().position(|n| *n == w) {
            Some(i) => i.to_string(),
            None => w,
        })
        .collect()
}

/// CPU time of this thread (the model runs on the calling thread with one
/// worker thread, as here on two cores): a figure the machine's other load
/// does not inflate, unlike the wall time.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

/// Word error rate of `heard` against `said` (edit distance over words).
fn wer(said: &[String], heard: &[String]) -> f64 {
    let mut prev: Vec<usize> = (0..=heard.len()).collect();
    for (i, s) in said.iter().enumerate() {
        let mut row = vec![i + 1];
        for (j, h) in heard.iter().enumerate() {
            let sub = prev[j] + usize::from(s != h);
            row.push(sub.min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev[heard.len()] as f64 / said.len().max(1) as f64
}

/// Every real English single utterance of the corpus, one by one.
#[test]
fn real_english_telephone_speech_is_transcribed() {
    let names = [
        "pub_s05_single_en_real",
        "pub_s06_single_en_real",
        "pub_s08_single_en_real",
        "pub_s09_single_en_real_long",
        "pub_p07_pause_en_real",
    ];
    let mut total_errors = 0.0;
    let mut total_words = 0usize;
    for name in names {
        let (audio, words) = corpus(name);
        let rate = audio.rate_hz as u64;
        let first = words.first().unwrap().1.saturating_sub(300);
        let last = words.last().unwrap().2 + 300;
        let cut = &audio.samples[(first * rate / 1000) as usize
            ..((last * rate / 1000) as usize).min(audio.samples.len())];
        let said = normalize(
            &words
                .iter()
                .map(|w| w.0.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
        let cpu = thread_cpu_ms();
        let t = model().transcribe_blocking(cut, audio.rate_hz).unwrap();
        let cpu = thread_cpu_ms() - cpu;
        let heard = normalize(&t.text);
        let e = wer(&said, &heard);
        println!(
            "{name}: {} ms of speech in {} ms ({cpu:.0} ms CPU): {:?} (WER {:.0} %)",
            cut.len() as u64 * 1000 / rate,
            t.elapsed.as_millis(),
            t.text,
            e * 100.0
        );
        total_errors += e * said.len() as f64;
        total_words += said.len();
        // Word times fall inside the utterance.
        let span = cut.len() as u64 * 1000 / rate;
        assert!(!t.words.is_empty(), "{name}: no words");
        assert!(
            t.words
                .iter()
                .all(|w| w.start_ms <= w.end_ms && w.end_ms <= span)
        );
    }
    let wer_all = total_errors / total_words as f64;
    println!("all: WER {:.1} % over {total_words} words", wer_all * 100.0);
    // Tiny.en on 8 kHz telephone speech gets most words, not all ("go
    // forward ten meters" came back "go forward, can we eat it?").
    assert!(wer_all <= 0.3, "WER {wer_all}");
}

/// Silence is not speech: nothing comes back (Whisper writes "Thank you."
/// over silence when not stopped).
#[test]
fn silence_gives_no_words() {
    let t = model()
        .transcribe_blocking(&vec![0i16; 16_000 * 2], 16_000)
        .unwrap();
    assert_eq!(t.text, "");
    assert!(t.words.is_empty());
}

/// The call's stream: audio pushed frame by frame on the call's clock
/// (here starting at 10 s), flushed at the speech end, comes back as one
/// English final whose words sit on the call's clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calls_stream_answers_one_final_per_utterance() {
    let stt = model().clone();
    assert_eq!(stt.languages(), &[Lang::En]);
    assert!(stt.runs_locally());
    let (audio, words) = corpus("pub_s05_single_en_real");
    let mut stream = stt.open(&SttOptions {
        language: None,
        sample_rate_hz: audio.rate_hz,
    });
    assert!(stream.finals_need_flush());
    let frame = audio.rate_hz as usize / 50;
    for (i, chunk) in audio.samples.chunks(frame).enumerate() {
        stream.push_audio(chunk, 10_000 + i as u64 * 20);
    }
    stream.flush();
    let ev = tokio::time::timeout(std::time::Duration::from_secs(60), stream.next_event())
        .await
        .expect("a final within a minute")
        .expect("the stream is open");
    let SttEvent::Final {
        text,
        words: heard,
        language,
    } = ev
    else {
        panic!("expected a final, got {ev:?}")
    };
    assert_eq!(language.as_deref(), Some("en"));
    let said = normalize("he was not an ill disposed young man");
    let got = normalize(&text);
    let hits = said.iter().filter(|w| got.contains(w)).count();
    assert!(hits >= 6, "{text:?}");
    let (first, last) = (words.first().unwrap().1, words.last().unwrap().2);
    let (h0, h1) = (heard.first().unwrap(), heard.last().unwrap());
    // On the call's clock: inside the pushed audio and in order.
    // (whisper.cpp's token timestamps are rough: here the last word ended
    // 1.2 s after the labelled end; the words' order and the clock they are
    // on are what the turn engine relies on.)
    let pushed_end = 10_000 + audio.samples.len() as u64 * 1000 / u64::from(audio.rate_hz);
    assert!(
        heard
            .iter()
            .all(|w| w.start_ms >= 10_000 && w.end_ms <= pushed_end),
        "{heard:?}"
    );
    assert!(heard.windows(2).all(|p| p[0].start_ms <= p[1].start_ms));
    assert!(h0.start_ms <= 10_000 + first + 400, "{h0:?} vs {first}");
    assert!(h1.end_ms >= 10_000 + last, "{h1:?} vs {last}");
}
