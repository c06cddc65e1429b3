//! Call metrics, rendered as Prometheus text at GET /metrics. Plain atomics
//! and fixed-bucket histograms: recording is a couple of relaxed atomic adds,
//! cheap enough for the per-frame path, with no lock and no allocation.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A histogram over fixed bucket bounds (in the metric's unit).
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation, in seconds.
    pub fn observe(&self, seconds: f64) {
        let seconds = if seconds.is_finite() {
            seconds.max(0.0)
        } else {
            0.0
        };
        if let Some(i) = self.bounds.iter().position(|b| seconds <= *b)
            && let Some(c) = self.counts.get(i)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

const FRAME_BOUNDS: &[f64] = &[
    0.000_002,
    0.000_005,
    0.000_007_5,
    0.000_01,
    0.000_015,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.005,
];
const LAG_BOUNDS: &[f64] = &[0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0];
// Fine below 5 ms: the engine's own end-of-turn-to-audio target is 5 ms p99.
const LATENCY_BOUNDS: &[f64] = &[
    0.000_5, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0,
];

/// Every metric the call path records.
#[derive(Debug)]
pub struct Metrics {
    pub active_calls: AtomicI64,
    pub calls_total: AtomicU64,
    pub calls_rejected: AtomicU64,
    pub frames_in: AtomicU64,
    pub frames_dropped: AtomicU64,
    /// Listening acknowledgements ("mm-hmm") played to callers.
    pub listening_acks: AtomicU64,
    /// Time to handle one inbound frame (decode, resample, turn engine).
    pub frame_seconds: Histogram,
    /// How far behind real time an inbound frame is handled: wall time
    /// since the call's first frame minus the audio received.
    pub frame_lag_seconds: Histogram,
    /// End of turn to the first reply audio byte sent.
    pub eot_to_first_audio_seconds: Histogram,
    /// Caller speech onset (on the audio clock) to clear sent.
    pub barge_in_reaction_seconds: Histogram,
    /// Speech provider: first audio pushed to first result.
    pub stt_first_result_seconds: Histogram,
    /// TTS request to first audio chunk.
    pub tts_first_audio_seconds: Histogram,
    /// A caller's turn handed to the dialog to its answer back in the call
    /// (the conversation service: its database work and the dialog).
    pub call_turn_seconds: Histogram,
    pub writer_queue_depth: AtomicI64,
    pub writer_retries: AtomicU64,
    pub writer_rows_written: AtomicU64,
    pub writer_rows_dropped: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            active_calls: AtomicI64::new(0),
            calls_total: AtomicU64::new(0),
            calls_rejected: AtomicU64::new(0),
            frames_in: AtomicU64::new(0),
            frames_dropped: AtomicU64::new(0),
            listening_acks: AtomicU64::new(0),
            frame_seconds: Histogram::new(FRAME_BOUNDS),
            frame_lag_seconds: Histogram::new(LAG_BOUNDS),
            eot_to_first_audio_seconds: Histogram::new(LATENCY_BOUNDS),
            barge_in_reaction_seconds: Histogram::new(LATENCY_BOUNDS),
            stt_first_result_seconds: Histogram::new(LATENCY_BOUNDS),
            tts_first_audio_seconds: Histogram::new(LATENCY_BOUNDS),
            call_turn_seconds: Histogram::new(LATENCY_BOUNDS),
            writer_queue_depth: AtomicI64::new(0),
            writer_retries: AtomicU64::new(0),
            writer_rows_written: AtomicU64::new(0),
            writer_rows_dropped: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let gauge = |out: &mut String, name: &str, help: &str, v: i64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        let load_i = |a: &AtomicI64| a.load(Ordering::Relaxed);
        let load_u = |a: &AtomicU64| a.load(Ordering::Relaxed);
        gauge(
            &mut out,
            "ratiba_active_calls",
            "Calls in progress.",
            load_i(&self.active_calls),
        );
        counter(
            &mut out,
            "ratiba_calls_total",
            "Calls started.",
            load_u(&self.calls_total),
        );
        counter(
            &mut out,
            "ratiba_calls_rejected_total",
            "Calls refused (unknown or disabled tenant).",
            load_u(&self.calls_rejected),
        );
        counter(
            &mut out,
            "ratiba_frames_in_total",
            "Inbound audio frames handled.",
            load_u(&self.frames_in),
        );
        counter(
            &mut out,
            "ratiba_listening_acks_total",
            "Listening acknowledgements played to callers in long turns.",
            load_u(&self.listening_acks),
        );
        counter(
            &mut out,
            "ratiba_frames_dropped_total",
            "Inbound messages dropped (bad audio).",
            load_u(&self.frames_dropped),
        );
        self.frame_seconds.render(
            "ratiba_frame_processing_seconds",
            "Time to handle one inbound frame.",
            &mut out,
        );
        self.frame_lag_seconds.render(
            "ratiba_frame_lag_seconds",
            "Inbound audio handled behind real time.",
            &mut out,
        );
        self.eot_to_first_audio_seconds.render(
            "ratiba_eot_to_first_audio_seconds",
            "End of turn to first reply audio sent.",
            &mut out,
        );
        self.barge_in_reaction_seconds.render(
            "ratiba_barge_in_reaction_seconds",
            "Caller onset to provider clear sent.",
            &mut out,
        );
        self.stt_first_result_seconds.render(
            "ratiba_stt_first_result_seconds",
            "Speech-to-text time to first result.",
            &mut out,
        );
        self.tts_first_audio_seconds.render(
            "ratiba_tts_first_audio_seconds",
            "Text-to-speech time to first audio.",
            &mut out,
        );
        self.call_turn_seconds.render(
            "ratiba_call_turn_seconds",
            "Caller turn handed to the dialog to its answer back.",
            &mut out,
        );
        gauge(
            &mut out,
            "ratiba_writer_queue_depth",
            "Rows waiting for the database writer.",
            load_i(&self.writer_queue_depth),
        );
        counter(
            &mut out,
            "ratiba_writer_retries_total",
            "Database write batches retried.",
            load_u(&self.writer_retries),
        );
        counter(
            &mut out,
            "ratiba_writer_rows_written_total",
            "Rows written by the writer.",
            load_u(&self.writer_rows_written),
        );
        counter(
            &mut out,
            "ratiba_writer_rows_dropped_total",
            "Rows refused because the writer queue was full.",
            load_u(&self.writer_rows_dropped),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_with_cumulative_buckets() {
        let m = Metrics::default();
        m.active_calls.fetch_add(3, Ordering::Relaxed);
        m.barge_in_reaction_seconds.observe(0.15);
        m.barge_in_reaction_seconds.observe(0.4);
        let text = m.render();
        assert!(text.contains("ratiba_active_calls 3\n"));
        assert!(text.contains("ratiba_barge_in_reaction_seconds_bucket{le=\"0.2\"} 1\n"));
        assert!(text.contains("ratiba_barge_in_reaction_seconds_bucket{le=\"0.5\"} 2\n"));
        assert!(text.contains("ratiba_barge_in_reaction_seconds_count 2\n"));
        assert!(text.contains("# TYPE ratiba_writer_queue_depth gauge"));
    }
}
