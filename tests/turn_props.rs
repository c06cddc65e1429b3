//! Property tests: random sequences of caller frames (empty, odd-sized,
//! silent, noisy, voiced, full scale), bot playback marks, transcripts,
//! holding, hints and timeouts, with time jumping forwards and backwards,
//! never panic, and after every step the engine agrees with a small
//! reference model of the floor:
//!
//! * at most one party holds the floor (the engine's `floor()` equals the
//!   last `FloorChanged` it announced);
//! * the floor goes to the bot only on a `BotStarted` input;
//! * every `barge_in` comes with a `Stop` (clear) of playback in the same step;
//! * a `Resume` follows a `Pause` of the same reply, never a `Stop`;
//! * `end_of_turn` is only announced while the caller holds the floor;
//! * output times never run backwards.

use proptest::prelude::*;
use ratiba::core::turn::{
    Expectation, Floor, PlaybackCommand, TranscriptUpdate, TranscriptWord, TurnConfig, TurnDials,
    TurnEngine, TurnEvent, TurnInput, TurnOutput,
};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum Op {
    Audio {
        kind: u8,
        len: usize,
        level: i16,
        f0: u16,
    },
    Jump(i64),
    BotStarted(u8),
    BotMark(u8, u32),
    BotFinished(u8),
    Words(u8, u8, i64),
    Holding(bool),
    Expect(u8),
    Timeout(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..5, prop_oneof![Just(320usize), Just(0), Just(1), Just(161), 0usize..900], any::<i16>(), 60u16..400)
            .prop_map(|(kind, len, level, f0)| Op::Audio { kind, len, level, f0 }),
        1 => (-3000i64..3000).prop_map(Op::Jump),
        1 => (0u8..3).prop_map(Op::BotStarted),
        1 => (0u8..3, 0u32..20_000).prop_map(|(u, m)| Op::BotMark(u, m)),
        1 => (0u8..3).prop_map(Op::BotFinished),
        2 => (0u8..12, 1u8..4, -2000i64..500).prop_map(|(w, n, o)| Op::Words(w, n, o)),
        1 => any::<bool>().prop_map(Op::Holding),
        1 => (0u8..3).prop_map(Op::Expect),
        1 => (-500i64..5000).prop_map(Op::Timeout),
    ]
}

const WORDS: [&str; 12] = [
    "mm-hmm", "okay", "wait", "hapana", "Friday.", "on", "sawa", "book", "a", "haircut", "zero",
    "seven",
];

#[derive(Default)]
struct Model {
    floor: Floor,
    paused: Option<u64>,
    last_at: Option<Instant>,
}

fn samples(kind: u8, len: usize, level: i16, f0: u16, phase: &mut f64, rate: u32) -> Vec<i16> {
    let amp = f64::from(level.unsigned_abs().max(1));
    (0..len)
        .map(|i| {
            *phase += f64::from(f0) / f64::from(rate);
            let v = match kind {
                0 => 0.0,
                1 => amp * ((i * 7919 % 101) as f64 / 50.0 - 1.0),
                2 => amp * (2.0 * std::f64::consts::PI * *phase).sin(),
                3 => {
                    let p = 2.0 * std::f64::consts::PI * *phase;
                    amp * (p.sin() + 0.6 * (2.0 * p).sin() + 0.4 * (3.0 * p).sin()) / 2.0
                }
                _ => {
                    if i % 2 == 0 {
                        32767.0
                    } else {
                        -32768.0
                    }
                }
            };
            v.clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

fn check_step(
    engine: &mut TurnEngine,
    model: &mut Model,
    input_was_bot_started: bool,
) -> Result<(), TestCaseError> {
    let mut outs = Vec::new();
    while let Some(o) = engine.poll_output() {
        outs.push(o);
    }
    for (i, o) in outs.iter().enumerate() {
        let at = match o {
            TurnOutput::Event { at, .. } | TurnOutput::Command { at, .. } => *at,
        };
        if let Some(prev) = model.last_at {
            prop_assert!(at >= prev, "output time ran backwards");
        }
        model.last_at = Some(at);
        match o {
            TurnOutput::Event {
                event: TurnEvent::FloorChanged { floor },
                ..
            } => {
                if *floor == Floor::Bot {
                    prop_assert!(input_was_bot_started, "floor to bot without BotStarted");
                }
                model.floor = *floor;
            }
            TurnOutput::Event {
                event: TurnEvent::BargeIn,
                ..
            } => {
                let cleared = outs[i..].iter().any(|o| {
                    matches!(
                        o,
                        TurnOutput::Command {
                            command: PlaybackCommand::Stop { .. },
                            ..
                        }
                    )
                });
                prop_assert!(cleared, "barge_in without a clear: {outs:?}");
                model.paused = None;
            }
            TurnOutput::Event {
                event: TurnEvent::EndOfTurn,
                ..
            } => {
                prop_assert_eq!(
                    model.floor,
                    Floor::Caller,
                    "end of turn while caller had no floor"
                );
            }
            TurnOutput::Command {
                command: PlaybackCommand::Pause { utterance, .. },
                ..
            } => {
                prop_assert_eq!(model.floor, Floor::Bot);
                model.paused = Some(*utterance);
            }
            TurnOutput::Command {
                command: PlaybackCommand::Resume { utterance, .. },
                ..
            } => {
                prop_assert_eq!(model.paused, Some(*utterance), "resume without pause");
                model.paused = None;
            }
            TurnOutput::Command {
                command: PlaybackCommand::Stop { .. },
                ..
            } => {
                model.paused = None;
            }
            _ => {}
        }
    }
    prop_assert_eq!(engine.floor(), model.floor);
    if engine.playback_paused() {
        prop_assert!(model.paused.is_some());
    }
    Ok(())
}

fn run(ops: Vec<Op>, dials: TurnDials, transcripts: bool, rate: u32) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut cfg = TurnConfig::from_dials(&dials, rate);
    cfg.expect_transcripts = transcripts;
    let mut engine = TurnEngine::new(cfg, t0);
    let mut model = Model::default();
    let mut t: i64 = 0;
    let mut phase = 0.0;
    let at = |ms: i64| t0 + Duration::from_millis(ms.max(0) as u64);
    for op in ops {
        let mut bot_started = false;
        match op {
            Op::Audio {
                kind,
                len,
                level,
                f0,
            } => {
                let s = samples(kind, len, level, f0, &mut phase, rate);
                engine.handle_input(TurnInput::CallerAudio {
                    samples: &s,
                    at: at(t),
                });
                t += (len as i64) / 16;
            }
            Op::Jump(d) => t += d,
            Op::BotStarted(u) => {
                engine.handle_input(TurnInput::BotStarted {
                    utterance: u64::from(u),
                    at: at(t),
                });
                bot_started = true;
            }
            Op::BotMark(u, m) => engine.handle_input(TurnInput::BotMark {
                utterance: u64::from(u),
                heard_ms: m,
                at: at(t),
            }),
            Op::BotFinished(u) => engine.handle_input(TurnInput::BotFinished {
                utterance: u64::from(u),
                at: at(t),
            }),
            Op::Words(w, n, off) => {
                let words = (0..n)
                    .map(|k| TranscriptWord {
                        text: WORDS[(w as usize + k as usize) % WORDS.len()].to_string(),
                        start: at(t + off + i64::from(k) * 200),
                        end: at(t + off + i64::from(k) * 200 + 150),
                    })
                    .collect();
                let update = TranscriptUpdate {
                    words,
                    language: None,
                    is_final: n % 2 == 0,
                };
                engine.handle_input(TurnInput::Transcript { update, at: at(t) });
            }
            Op::Holding(on) => engine.handle_input(TurnInput::Holding { on, at: at(t) }),
            Op::Expect(e) => {
                let what = [
                    Expectation::Anything,
                    Expectation::Digits,
                    Expectation::Date,
                ][e as usize % 3];
                engine.handle_input(TurnInput::Expecting { what, at: at(t) });
            }
            Op::Timeout(d) => engine.handle_input(TurnInput::Timeout(at(t + d))),
        }
        check_step(&mut engine, &mut model, bot_started)?;
        if let Some((deadline, _)) = engine.next_timeout() {
            prop_assert!(deadline >= t0);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn full_duplex_never_panics_and_keeps_floor_invariants(ops in prop::collection::vec(op(), 1..160), transcripts in any::<bool>(), rate in prop::sample::select(vec![8_000u32, 16_000])) {
        run(ops, TurnDials::all_on(), transcripts, rate)?;
    }

    #[test]
    fn half_duplex_and_no_filter_keep_floor_invariants(ops in prop::collection::vec(op(), 1..160), hard in any::<bool>(), rate in prop::sample::select(vec![8_000u32, 16_000])) {
        let dials = TurnDials { voice_full_duplex_enabled: false, voice_hard_interrupt: hard, ..TurnDials::default() };
        run(ops.clone(), dials, true, rate)?;
        let dials = TurnDials { voice_backchannel_filter: false, voice_hard_interrupt: hard, ..TurnDials::all_on() };
        run(ops, dials, false, rate)?;
    }
}
