//! A blind set of 300 labelled messages a customer sends while an M-Pesa
//! prompt is pending (fixtures/dialog_eval/pay_answers.json), written by
//! someone who had not read the code, replayed through the call's hold
//! (from its Holding step) and the chat payment (its prompt open). Every 5th
//! answer is held out of tuning (reported, never read). `PAY_VERBOSE=1`
//! prints the tuning part's misses.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};

use super::Provider;
use super::chat::{ChatInput, ChatMessage, ChatOutput, ChatPayment, ChatPaymentConfig, Status};
use super::hold::{HoldConfig, HoldInput, HoldOutput, HoldResult, Prompt, StkHold};
use crate::core::ids::Money;

#[derive(serde::Deserialize)]
struct PayAnswer {
    id: String,
    text: String,
    label: String,
}

/// The answers with whether each is held out (every 5th).
fn pay_answers() -> Vec<(bool, PayAnswer)> {
    let raw = include_str!("../../../fixtures/dialog_eval/pay_answers.json");
    let answers: Vec<PayAnswer> = serde_json::from_str(raw).unwrap();
    answers
        .into_iter()
        .map(|a| {
            let n: u32 = a.id.trim_start_matches('p').parse().unwrap();
            (n.is_multiple_of(5), a)
        })
        .collect()
}

/// What one message did to the hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldEffect {
    Cancelled,
    PushedAgain,
    NotReceivedHelp,
    CheckedPaid,
    PayLater,
    /// Left with a payment link, the caller's words to the dialog.
    ChangeByDialog,
    /// Left with no link, the caller's words to the dialog (which hands
    /// the call to a person).
    ProblemForAPerson,
    KeptHolding,
    /// Anything else (a combination no label expects).
    Odd,
}

/// Says `text` to a hold that is waiting for the caller's PIN.
fn hold_effect(text: &str) -> (HoldEffect, Vec<HoldOutput>) {
    let mut hold = StkHold::new(HoldConfig::from_tenant(90), Money::kes(50_000));
    let t0 = Instant::now();
    let feed = |hold: &mut StkHold, secs: u64, input: HoldInput| {
        hold.handle_input(input, t0 + Duration::from_secs(secs));
        let mut got = Vec::new();
        while let Some(o) = hold.poll_output() {
            if matches!(o, HoldOutput::Timeout(_)) {
                break;
            }
            got.push(o);
        }
        got
    };
    feed(&mut hold, 0, HoldInput::Start);
    feed(&mut hold, 2, HoldInput::CallerSaid("ndiyo".into()));
    feed(&mut hold, 3, HoldInput::PushAccepted);
    assert!(hold.is_holding());
    let got = feed(&mut hold, 10, HoldInput::CallerSaid(text.into()));
    let has = |o: &HoldOutput| got.contains(o);
    let to_dialog = got.contains(&HoldOutput::ForDialog(text.into()));
    let effect = if has(&HoldOutput::Finished(HoldResult::CallerCancelled)) {
        HoldEffect::Cancelled
    } else if to_dialog
        && has(&HoldOutput::Finished(HoldResult::PayLater))
        && has(&HoldOutput::SendPaymentLink)
    {
        HoldEffect::ChangeByDialog
    } else if to_dialog
        && has(&HoldOutput::Finished(HoldResult::PaymentProblem))
        && !has(&HoldOutput::SendPaymentLink)
    {
        HoldEffect::ProblemForAPerson
    } else if has(&HoldOutput::Finished(HoldResult::PayLater)) && has(&HoldOutput::SendPaymentLink)
    {
        HoldEffect::PayLater
    } else if has(&HoldOutput::PushStk { attempt: 2 }) {
        HoldEffect::PushedAgain
    } else if has(&HoldOutput::Say(Prompt::NotReceivedHelp)) && has(&HoldOutput::QueryStk) {
        HoldEffect::NotReceivedHelp
    } else if has(&HoldOutput::Say(Prompt::CheckingNow)) && has(&HoldOutput::QueryStk) {
        HoldEffect::CheckedPaid
    } else if hold.is_holding()
        && !got
            .iter()
            .any(|o| matches!(o, HoldOutput::PushStk { .. } | HoldOutput::Finished(_)))
    {
        HoldEffect::KeptHolding
    } else {
        HoldEffect::Odd
    };
    (effect, got)
}

/// Whether the hold did what the label asks.
fn hold_ok(label: &str, effect: HoldEffect) -> bool {
    use HoldEffect::*;
    match label {
        "cancel" => effect == Cancelled,
        "resend" => effect == PushedAgain,
        "not_received" => effect == NotReceivedHelp,
        "paid" => effect == CheckedPaid,
        // A link on WhatsApp: anyone can pay it, by card or M-Pesa.
        "card" | "cash_later" | "other_number" => effect == PayLater,
        // A change leaves the hold with a link; the dialog makes it.
        "change" => effect == ChangeByDialog,
        // Money taken with no confirmation, paid twice, paid to the wrong
        // paybill: a person, through the dialog. The label also covers a
        // payment that could not be made ("insufficient funds", "M-Pesa
        // blocked"): keeping the hold, or asking the provider, is right.
        "problem" => matches!(
            effect,
            ProblemForAPerson | KeptHolding | CheckedPaid | NotReceivedHelp
        ),
        _ => effect == KeptHolding,
    }
}

/// Writes `text` to a chat payment whose M-Pesa prompt is pending; a
/// status query is answered "still pending".
fn chat_outputs(text: &str) -> Vec<ChatOutput> {
    let t =
        |s: i64| Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::seconds(s);
    let config = ChatPaymentConfig::from_tenant(480, 1800).with_paybill(Some("174379".into()));
    let mut m = ChatPayment::new(config, Provider::Mpesa);
    let feed = |m: &mut ChatPayment, s: i64, input: ChatInput| {
        m.handle_input(input, t(s));
        let mut got = Vec::new();
        while let Some(o) = m.poll_output() {
            if matches!(o, ChatOutput::Timeout(_)) {
                break;
            }
            got.push(o);
        }
        got
    };
    feed(&mut m, 0, ChatInput::Start(Provider::Mpesa));
    feed(&mut m, 1, ChatInput::PushAccepted);
    let mut got = feed(&mut m, 30, ChatInput::CustomerSaid(text.into()));
    if got == [ChatOutput::QueryStatus] {
        got.extend(feed(&mut m, 31, ChatInput::Status(Status::Pending)));
    }
    got
}

/// What one message did to the chat payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChatEffect {
    /// Left to the dialog (which confirms a cancel, answers the rest).
    Dialog,
    /// Asked M-Pesa, then said the prompt is still open (no second one).
    StillPending,
    NotReceivedHelp,
    Checking,
    Link,
    PayLater,
    TakeYourTime,
    Odd,
}

fn chat_effect(got: &[ChatOutput]) -> ChatEffect {
    let asked = got.first() == Some(&ChatOutput::QueryStatus);
    match (asked, got.last()) {
        (false, Some(ChatOutput::ForDialog)) if got.len() == 1 => ChatEffect::Dialog,
        (false, Some(ChatOutput::CreatePesapalOrder)) if got.len() == 1 => ChatEffect::Link,
        (true, Some(ChatOutput::Send(ChatMessage::StillPending { .. }))) => {
            ChatEffect::StillPending
        }
        (true, Some(ChatOutput::Send(ChatMessage::NotReceivedHelp { .. }))) => {
            ChatEffect::NotReceivedHelp
        }
        (true, Some(ChatOutput::Send(ChatMessage::Checking { .. }))) => ChatEffect::Checking,
        (false, Some(ChatOutput::Send(ChatMessage::PayLater { .. }))) => ChatEffect::PayLater,
        (false, Some(ChatOutput::Send(ChatMessage::TakeYourTime { .. }))) => {
            ChatEffect::TakeYourTime
        }
        _ => ChatEffect::Odd,
    }
}

/// Whether the chat did what the label asks. Nothing cancels here: a
/// cancel, another payer, a question, a change or a problem (a double
/// charge is handed to a person) are the dialog's.
fn chat_ok(label: &str, effect: ChatEffect) -> bool {
    use ChatEffect::*;
    match label {
        "resend" => effect == StillPending,
        "not_received" => effect == NotReceivedHelp,
        "paid" => effect == Checking,
        "card" => effect == Link,
        "cash_later" => effect == PayLater,
        "wait" => effect == TakeYourTime,
        _ => effect == Dialog,
    }
}

/// Passed / total per (machine, held out, label).
#[derive(Default)]
struct Tally(BTreeMap<(&'static str, bool, String), (u32, u32)>);

impl Tally {
    fn record(&mut self, machine: &'static str, held: bool, label: &str, ok: bool) {
        let t = self.0.entry((machine, held, label.to_owned())).or_default();
        t.0 += u32::from(ok);
        t.1 += 1;
    }

    fn passed(&self, machine: &'static str, held: bool, label: &str) -> u32 {
        self.0
            .get(&(machine, held, label.to_owned()))
            .map_or(0, |t| t.0)
    }

    fn print(&self) {
        for ((machine, held, label), (ok, n)) in &self.0 {
            let part = if *held { "held-out" } else { "tune" };
            println!("{machine} {part} {label}: {ok}/{n}");
        }
    }
}

#[test]
fn blind_answers_while_paying() {
    let verbose = std::env::var("PAY_VERBOSE").is_ok_and(|v| v == "1");
    let mut tally = Tally::default();
    // Cancelled after anything but a cancel: [tune, held-out].
    let mut hold_dangerous = [0u32; 2];
    // The chat answered what was the dialog's, or left to the dialog
    // what it should have answered: [tune, held-out].
    let mut chat_misrouted = [0u32; 2];
    for (held, a) in pay_answers() {
        let (effect, got) = hold_effect(&a.text);
        let ok = hold_ok(&a.label, effect);
        if effect == HoldEffect::Cancelled && a.label != "cancel" {
            hold_dangerous[usize::from(held)] += 1;
        }
        if verbose && !ok && !held {
            println!(
                "hold {} [{}] {:?} -> {effect:?} {got:?}",
                a.id, a.label, a.text
            );
        }
        tally.record("hold", held, &a.label, ok);

        let got = chat_outputs(&a.text);
        let effect = chat_effect(&got);
        let ok = chat_ok(&a.label, effect);
        // Kept from the dialog when it was the dialog's, or the reverse.
        let for_dialog = chat_ok(&a.label, ChatEffect::Dialog);
        if !ok && (for_dialog || effect == ChatEffect::Dialog) {
            chat_misrouted[usize::from(held)] += 1;
        }
        if verbose && !ok && !held {
            println!(
                "chat {} [{}] {:?} -> {effect:?} {got:?}",
                a.id, a.label, a.text
            );
        }
        tally.record("chat", held, &a.label, ok);
    }
    tally.print();
    println!(
        "hold cancelled after anything but a cancel: tune {}, held-out {}; chat misrouted: tune {}, held-out {}",
        hold_dangerous[0], hold_dangerous[1], chat_misrouted[0], chat_misrouted[1]
    );
    // Measured on the tuning part, before (the keyword classifier) and
    // after (reply::PendingReply): dangerous hold 14 -> 0, chat 13 -> 0;
    // hold cancels 15 -> 26/26, resends 0 -> 25/25, paid 5 -> 21/21, not
    // received 7 -> 25/25; chat cards 9 -> 19/19, resends 9 -> 25/25.
    assert_eq!(hold_dangerous[0], 0, "hold cancelled on a non-cancel");
    // The chat reads every message first since the answer to each label
    // was written (it took only RETRY / LINK after a failure before):
    // misrouted on the tuning part 4 ('wait, make it 2pm instead' waited;
    // three problems, a double or misdirected payment, were taken as
    // paid), 0 since changes and payment problems are read as such.
    assert_eq!(chat_misrouted[0], 0, "chat misrouted");
    // Since a change leaves the hold (link, words to the dialog) and a
    // payment problem goes to a person: hold changes 15/15 (none before:
    // they kept holding), problems 16/16; chat changes 14 -> 15/15,
    // problems 13 -> 16/16.
    for (machine, label, at_least) in [
        ("hold", "cancel", 26),
        ("hold", "resend", 25),
        ("hold", "paid", 21),
        ("hold", "not_received", 25),
        ("hold", "change", 15),
        ("hold", "problem", 16),
        ("chat", "change", 15),
        ("chat", "problem", 16),
        ("chat", "cancel", 26),
        ("chat", "resend", 25),
        ("chat", "card", 19),
        ("chat", "not_received", 25),
        ("chat", "paid", 21),
        ("chat", "cash_later", 20),
        ("chat", "wait", 28),
        ("chat", "question", 28),
        ("chat", "other_number", 17),
    ] {
        let passed = tally.passed(machine, false, label);
        assert!(
            passed >= at_least,
            "{machine} {label}: {passed} < {at_least}"
        );
    }
}
