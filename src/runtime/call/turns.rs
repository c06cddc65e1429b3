//! The caller's turns: what the turn engine decided, performed, and each
//! finished turn taken to the dialog (or to the payment hold), with the
//! dialog's answer coming back.

use super::*;

impl Call {
    pub(super) fn on_reply(&mut self, reply: Result<BotReply, ConversationError>) {
        self.reply = None;
        self.moment = None;
        let Some((reply, after_current)) = self.settle_reply(reply) else {
            return; // tried again; the answer is still owed
        };
        let since = self.reply_since.take();
        if let Some(asked) = since {
            self.metrics
                .call_turn_seconds
                .observe(asked.elapsed().as_secs_f64());
        }
        self.turns.expecting(reply.expecting, self.turns.clock_ms());
        self.maybe_start_hold(&reply);
        if after_current {
            self.say_after_current(reply.into());
        } else {
            self.say(reply.into(), since);
        }
        self.next_waiting_turn();
    }

    pub(super) fn drive_turns(&mut self) {
        while let Some(action) = self.turns.poll() {
            match action {
                TurnAction::PauseBot { onset_ms } => self.pause(onset_ms),
                TurnAction::ResumeBot => self.voice.resume(),
                TurnAction::ConfirmBargeIn => self.voice.cut(),
                TurnAction::CallerPaused => {
                    if let Some(stt) = self.stt.as_mut().filter(|s| s.finals_need_flush()) {
                        stt.flush();
                        self.turns.transcript_requested();
                    }
                }
                TurnAction::ListeningAck { language } => self.listening_ack(language),
                TurnAction::CallerSpeaking => self.voice.caller_active(),
                TurnAction::NoInput => self.no_input(),
                // The engine sends it only with voice_adaptive_speed, bounded.
                TurnAction::SpeakingRate(factor) => self.speed = factor,
                TurnAction::EndOfTurn {
                    text,
                    language,
                    dtmf,
                    at_ms,
                } => self.end_of_turn(text, language, dtmf, at_ms),
            }
            self.drive_voice();
        }
    }

    pub(super) fn end_of_turn(
        &mut self,
        text: String,
        language: Option<Lang>,
        dtmf: String,
        at_ms: u64,
    ) {
        self.caller_turns += 1;
        self.voice.caller_active();
        let (start, end, _) = std::mem::take(&mut self.turn_words);
        debug!(text = %text, dtmf = %dtmf, "caller turn");
        self.report.lines.push(ReportLine {
            speaker: Speaker::Caller,
            at_ms,
            text: if text.is_empty() {
                format!("[dtmf {dtmf}]")
            } else {
                text.clone()
            },
            interrupted: false,
            heard_ms: 0,
        });
        if self.ending.closing() {
            // Handed to a person: the call is ending; nothing more to answer.
            self.write_caller_turn(&text, language, &dtmf, at_ms, end.saturating_sub(start));
            return;
        }
        if let Some(hold) = &self.hold {
            // The hold understands the few answers it needs ("yes",
            // "cancel", "nimelipa"); the dialog does not see them, so the
            // call records the turn itself.
            hold.caller_said(text.clone());
            self.write_caller_turn(&text, language, &dtmf, at_ms, end.saturating_sub(start));
            // Lines held back behind one the caller cut off come now.
            self.voice.say_waiting(self.turns.clock_ms());
            return;
        }
        if !self.conversation.records_turns() {
            self.write_caller_turn(&text, language, &dtmf, at_ms, end.saturating_sub(start));
        }
        self.answer(text, language, dtmf);
    }

    pub(super) fn answer(&mut self, text: String, language: Option<Lang>, dtmf: String) {
        // The dialog's answer supersedes lines still waiting to be said and
        // the one the bot still held audio of (half duplex).
        self.voice.make_way();
        let turn = CallerTurn {
            key: format!("call:{}:{}", self.call_id, self.caller_turns),
            text,
            language,
            dtmf,
        };
        if self.ask(turn) {
            self.reply_since = Some(Instant::now());
        }
    }
}
