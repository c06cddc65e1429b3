//! What the call writes: the caller and thread rows, the caller's turns and
//! the bot's lines with what the caller heard of them.

use super::*;

impl Call {
    pub(super) fn write_caller_turn(
        &mut self,
        text: &str,
        language: Option<Lang>,
        dtmf: &str,
        at_ms: u64,
        duration_ms: u64,
    ) {
        self.writer.send(CallRow::Interaction {
            tenant: self.ctx.tenant.slug.clone(),
            id: uuid::Uuid::now_v7(),
            customer_phone: self.caller_phone.clone(),
            direction: Direction::Inbound,
            content: turn_content(text, dtmf),
            language: language.map(|l| l.code().to_owned()),
            intent: None,
            duration_ms: i32::try_from(duration_ms).ok(),
            metadata: serde_json::json!({
                "call_id": self.call_id.to_string(),
                "stream_id": self.provider_stream_id,
                "dtmf": dtmf,
                "at_ms": at_ms,
            }),
            at: Utc::now(),
        });
    }

    /// A caller turn the conversation could not take (the database kept
    /// failing): recorded through the writer, which holds it until the
    /// database is back, under the turn's key so it can be found again.
    pub(super) fn keep_turn(&mut self, turn: &CallerTurn) {
        self.writer.send(CallRow::Interaction {
            tenant: self.ctx.tenant.slug.clone(),
            id: uuid::Uuid::now_v7(),
            customer_phone: self.caller_phone.clone(),
            direction: Direction::Inbound,
            content: turn_content(&turn.text, &turn.dtmf),
            language: turn.language.map(|l| l.code().to_owned()),
            intent: None,
            duration_ms: None,
            metadata: serde_json::json!({
                "call_id": self.call_id.to_string(),
                "stream_id": self.provider_stream_id,
                "dtmf": turn.dtmf,
                "wamid": turn.key,
                "unanswered": true,
            }),
            at: Utc::now(),
        });
    }

    /// A caller turn the dialog answered from memory while the database
    /// was away: the turn (under its key, so it is recorded once) and the
    /// dialog's new checkpoint go through the writer; the reply is written
    /// when it has been heard, like any line the call composed.
    pub(super) fn write_answered_offline(
        &mut self,
        turn: &CallerTurn,
        intent: Option<&str>,
        checkpoint: crate::runtime::offline_turn::UnsavedCheckpoint,
    ) {
        let tenant = self.ctx.tenant.slug.clone();
        self.writer.send(CallRow::Interaction {
            tenant: tenant.clone(),
            id: uuid::Uuid::now_v7(),
            customer_phone: self.caller_phone.clone(),
            direction: Direction::Inbound,
            content: turn_content(&turn.text, &turn.dtmf),
            language: turn.language.map(|l| l.code().to_owned()),
            // What the dialog understood, as on the rows it writes itself.
            intent: intent.map(str::to_owned),
            duration_ms: None,
            metadata: serde_json::json!({
                "call_id": self.call_id.to_string(),
                "stream_id": self.provider_stream_id,
                "thread_id": self.ctx.thread.as_str(),
                "dtmf": turn.dtmf,
                "wamid": turn.key,
                "answered_offline": true,
            }),
            at: Utc::now(),
        });
        self.writer.send(CallRow::Checkpoint {
            tenant,
            thread: self.ctx.thread.clone(),
            id: checkpoint.id,
            body: checkpoint.body,
            metadata: checkpoint.metadata,
        });
    }

    /// A bot line is over: the report's line, and the row of what the
    /// caller heard of it.
    pub(super) fn record_bot(&mut self, spoken: &Spoken) {
        let interrupted = spoken.interrupted;
        let heard_ms = self.format.duration_ms(spoken.heard_bytes);
        let total_ms = self.format.duration_ms(spoken.synthesized_bytes);
        let full_text = spoken.text.clone();
        let heard_text = spoken.heard_text.clone();
        self.report.lines.push(ReportLine {
            speaker: Speaker::Bot,
            at_ms: spoken.started_ms,
            text: full_text.clone(),
            interrupted,
            heard_ms,
        });
        let playback = serde_json::json!({
            "call_id": self.call_id.to_string(),
            "stream_id": self.provider_stream_id,
            "barge_in": interrupted,
            "heard_up_to_ms": heard_ms,
            "synthesized_ms": total_ms,
        });
        if !spoken.recorded.is_empty() {
            self.writer.send(CallRow::PlaybackHeard {
                tenant: self.ctx.tenant.slug.clone(),
                ids: spoken.recorded.clone(),
                duration_ms: i32::try_from(heard_ms).ok(),
                metadata: playback,
            });
            return;
        }
        // Cut off before a word was heard (a greeting when the caller hung
        // up at once): the row says what was meant, never nothing.
        let nothing_heard = heard_text.trim().is_empty();
        let content = if nothing_heard {
            full_text.clone()
        } else {
            heard_text
        };
        if content.trim().is_empty() {
            return; // nothing was said either
        }
        self.writer.send(CallRow::Interaction {
            tenant: self.ctx.tenant.slug.clone(),
            id: uuid::Uuid::now_v7(),
            customer_phone: self.caller_phone.clone(),
            direction: Direction::Outbound,
            content,
            language: Some(spoken.language.code().to_owned()),
            intent: spoken.intent.clone(),
            duration_ms: i32::try_from(heard_ms).ok(),
            metadata: serde_json::json!({
                "call_id": self.call_id.to_string(),
                "stream_id": self.provider_stream_id,
                "barge_in": interrupted,
                "heard_up_to_ms": heard_ms,
                "synthesized_ms": total_ms,
                "full_text": full_text,
                "nothing_heard": nothing_heard,
            }),
            at: Utc::now(),
        });
    }

    pub(super) fn open_rows(&mut self) {
        let tenant = self.ctx.tenant.slug.clone();
        let at = Utc::now();
        if self.ctx.caller.is_some() {
            self.writer.send(CallRow::Caller {
                tenant: tenant.clone(),
                phone_e164: self.caller_phone.clone(),
                at,
            });
        }
        self.writer.send(CallRow::ThreadOpened {
            tenant,
            thread: self.ctx.thread.clone(),
            customer_phone: self.caller_phone.clone(),
            at,
        });
    }

    pub(super) fn close_rows(&mut self, end: &EndReason) {
        self.voice.end();
        // The line cut by the end (and the hold's count of it): nothing
        // more is sent.
        while let Some(effect) = self.voice.poll() {
            self.perform(effect);
        }
        if self.report.handoff.is_some() {
            // Handed to a person: the thread stays open for the team (the
            // notices go out for open threads; an admin closes it, and the
            // customer's WhatsApp messages meanwhile reach them).
            info!("call handed to a person; its thread stays open");
            return;
        }
        let reason = match end {
            // Hung up on a caller who went silent: they left.
            EndReason::BotHungUp if self.voice.silences() >= 2 => "abandon",
            EndReason::BotHungUp => "done",
            EndReason::ProviderStop | EndReason::SocketClosed if self.caller_turns > 0 => "done",
            _ => "abandon",
        };
        self.writer.send(CallRow::ThreadClosed {
            tenant: self.ctx.tenant.slug.clone(),
            thread: self.ctx.thread.clone(),
            customer_phone: self.caller_phone.clone(),
            reason,
            at: Utc::now(),
        });
    }
}

/// A caller turn's content: its words, or the keys pressed (never empty).
fn turn_content(text: &str, dtmf: &str) -> String {
    if text.trim().is_empty() {
        format!("[dtmf {dtmf}]")
    } else {
        text.to_owned()
    }
}
