use super::*;
use crate::core::ids::Lang;
use crate::core::payment::FailureReason;
use chrono::TimeZone;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::seconds(secs)
}

fn drain(m: &mut ChatPayment) -> (Vec<ChatOutput>, Option<DateTime<Utc>>) {
    let mut got = Vec::new();
    while let Some(o) = m.poll_output() {
        if let ChatOutput::Timeout(at) = o {
            return (got, Some(at));
        }
        got.push(o);
    }
    (got, None)
}

fn step(m: &mut ChatPayment, secs: i64, input: ChatInput) -> Vec<ChatOutput> {
    m.handle_input(input, t(secs));
    drain(m).0
}

fn said(m: &mut ChatPayment, secs: i64, text: &str) -> Vec<ChatOutput> {
    step(m, secs, ChatInput::CustomerSaid(text.into()))
}

fn cfg() -> ChatPaymentConfig {
    ChatPaymentConfig::from_tenant(480, 1800)
}

/// An M-Pesa prompt accepted at 1 s and still open.
fn prompt_open() -> ChatPayment {
    let mut m = ChatPayment::new(cfg().with_paybill(Some("174379".into())), Provider::Mpesa);
    step(&mut m, 0, ChatInput::Start(Provider::Mpesa));
    step(&mut m, 1, ChatInput::PushAccepted);
    m
}

/// A chat payment rebuilt from storage after its latest push failed.
fn after_failure(pushes: u8) -> ChatPayment {
    let stored = Stored {
        provider: Provider::Mpesa,
        started_at: t(0),
        link: None,
        pushes,
        nudge_sent: true,
        open: false,
    };
    ChatPayment::resume(cfg().with_paybill(Some("174379".into())), stored, t(60))
}

fn sent(m: ChatMessage) -> Vec<ChatOutput> {
    vec![ChatOutput::Send(m)]
}

#[test]
fn pesapal_link_nudge_then_abandon() {
    let mut m = ChatPayment::new(cfg(), Provider::Pesapal);
    assert_eq!(
        step(&mut m, 0, ChatInput::Start(Provider::Pesapal)),
        vec![ChatOutput::CreatePesapalOrder]
    );
    let url = "https://pay.example/x".to_string();
    assert_eq!(
        step(
            &mut m,
            1,
            ChatInput::OrderCreated {
                redirect_url: url.clone()
            }
        ),
        sent(ChatMessage::PayWithLink { url: url.clone() })
    );
    assert_eq!(drain(&mut m).1, Some(t(480)));
    assert!(step(&mut m, 479, ChatInput::Tick).is_empty());
    assert_eq!(
        step(&mut m, 480, ChatInput::Tick),
        sent(ChatMessage::Nudge { url: Some(url) })
    );
    assert_eq!(drain(&mut m).1, Some(t(1800)));
    assert!(step(&mut m, 1799, ChatInput::Tick).is_empty());
    assert_eq!(
        step(&mut m, 1800, ChatInput::Tick),
        vec![
            ChatOutput::Send(ChatMessage::Abandoned),
            ChatOutput::CancelAppointment {
                reason: "payment not completed in time".into()
            },
            ChatOutput::CloseThreadAbandoned,
            ChatOutput::Finished(ChatResult::Abandoned)
        ]
    );
    assert!(m.is_done());
    assert_eq!(drain(&mut m).1, None);
}

#[test]
fn mpesa_success_stops_the_timers() {
    let mut m = ChatPayment::new(cfg(), Provider::Mpesa);
    assert_eq!(
        step(&mut m, 0, ChatInput::Start(Provider::Mpesa)),
        vec![ChatOutput::PushStk { attempt: 1 }]
    );
    step(&mut m, 1, ChatInput::PushAccepted);
    let got = step(
        &mut m,
        30,
        ChatInput::Outcome(PaymentOutcome::Completed {
            receipt: Some("QX1".into()),
        }),
    );
    assert_eq!(got.last(), Some(&ChatOutput::Finished(ChatResult::Paid)));
    assert!(step(&mut m, 2000, ChatInput::Tick).is_empty());
}

#[test]
fn mpesa_failure_then_retry_then_link() {
    let mut m = ChatPayment::new(cfg(), Provider::Mpesa);
    step(&mut m, 0, ChatInput::Start(Provider::Mpesa));
    step(&mut m, 1, ChatInput::PushAccepted);
    let got = step(
        &mut m,
        20,
        ChatInput::Outcome(PaymentOutcome::Failed(FailureReason::WrongPin)),
    );
    assert_eq!(
        got,
        sent(ChatMessage::Failed {
            why: FailureWhy::WrongPin,
            can_retry: true
        })
    );
    assert_eq!(
        said(&mut m, 25, "RETRY"),
        vec![ChatOutput::PushStk { attempt: 2 }]
    );
    step(&mut m, 26, ChatInput::PushAccepted);
    let got = step(&mut m, 60, ChatInput::Outcome(PaymentOutcome::Timeout));
    assert_eq!(
        got,
        sent(ChatMessage::Failed {
            why: FailureWhy::Unreachable,
            can_retry: false
        })
    );
    // No third push; a link is still possible.
    assert!(matches!(
        said(&mut m, 61, "tena")[..],
        [ChatOutput::Send(ChatMessage::Failed {
            can_retry: false,
            ..
        })]
    ));
    assert_eq!(
        said(&mut m, 62, "send a link"),
        vec![ChatOutput::CreatePesapalOrder]
    );
}

#[test]
fn the_failed_payment_answers_keep_their_meaning() {
    // The words a failure's message asks for, as they were before every
    // message was read.
    for word in ["RETRY", "retry.", "TENA", "Tena"] {
        let mut m = after_failure(1);
        assert_eq!(
            said(&mut m, 61, word),
            vec![ChatOutput::PushStk { attempt: 2 }],
            "{word}"
        );
    }
    for word in ["LINK", "link", "KIUNGO", "kiungo"] {
        let mut m = after_failure(1);
        assert_eq!(
            said(&mut m, 61, word),
            vec![ChatOutput::CreatePesapalOrder],
            "{word}"
        );
    }
}

#[test]
fn a_resend_while_the_prompt_is_open_asks_m_pesa_first() {
    let mut m = prompt_open();
    assert_eq!(
        said(&mut m, 20, "haijafika tuma tena"),
        vec![ChatOutput::QueryStatus]
    );
    // Still live on the phone: no second prompt.
    assert_eq!(
        step(&mut m, 21, ChatInput::Status(Status::Pending)),
        sent(ChatMessage::StillPending { can_retry: true })
    );
    // Asked again once M-Pesa has ended it: the next push, and nothing
    // said of the failure (its notice tells it).
    assert_eq!(said(&mut m, 90, "tuma tena"), vec![ChatOutput::QueryStatus]);
    assert_eq!(
        step(
            &mut m,
            91,
            ChatInput::Status(Status::Final(PaymentOutcome::Timeout))
        ),
        vec![ChatOutput::PushStk { attempt: 2 }]
    );
    assert_eq!(
        step(&mut m, 92, ChatInput::PushAccepted),
        sent(ChatMessage::CheckYourPhone)
    );
    // The second prompt open, the last one allowed: still pending says
    // so without offering another.
    assert_eq!(said(&mut m, 100, "resend"), vec![ChatOutput::QueryStatus]);
    assert_eq!(
        step(&mut m, 101, ChatInput::Status(Status::Pending)),
        sent(ChatMessage::StillPending { can_retry: false })
    );
}

#[test]
fn a_prompt_whose_status_is_unknown_is_pushed_again_once_it_must_have_expired() {
    let lasts = cfg().prompt_lasts.num_seconds();
    // Accepted at 1 s: expired from 1 + lasts.
    for (at, expect_push) in [(lasts, false), (1 + lasts, true)] {
        let mut m = prompt_open();
        assert_eq!(
            said(&mut m, at, "send again"),
            vec![ChatOutput::QueryStatus]
        );
        let got = step(&mut m, at, ChatInput::Status(Status::Unknown));
        if expect_push {
            assert_eq!(got, vec![ChatOutput::PushStk { attempt: 2 }], "at {at}");
        } else {
            assert_eq!(
                got,
                sent(ChatMessage::StillPending { can_retry: true }),
                "at {at}"
            );
        }
    }
    // Pending is M-Pesa's own word: the prompt is live, however old.
    let mut m = prompt_open();
    said(&mut m, 10 * lasts, "send again");
    assert_eq!(
        step(&mut m, 10 * lasts, ChatInput::Status(Status::Pending)),
        sent(ChatMessage::StillPending { can_retry: true })
    );
}

#[test]
fn not_received_and_paid_ask_m_pesa_and_never_mark_paid() {
    let mut m = prompt_open();
    assert_eq!(
        said(&mut m, 20, "sijapata prompt"),
        vec![ChatOutput::QueryStatus]
    );
    assert_eq!(
        step(&mut m, 21, ChatInput::Status(Status::Pending)),
        sent(ChatMessage::NotReceivedHelp {
            prompt_open: true,
            can_retry: true,
            paybill: Some("174379".into())
        })
    );
    assert_eq!(said(&mut m, 30, "nimelipa"), vec![ChatOutput::QueryStatus]);
    assert_eq!(
        step(&mut m, 31, ChatInput::Status(Status::Unknown)),
        sent(ChatMessage::Checking {
            provider: Provider::Mpesa
        })
    );
    assert!(!m.is_done(), "the customer's word does not pay");
    // M-Pesa's word does; its notice tells the customer.
    said(&mut m, 40, "done, I have paid");
    assert_eq!(
        step(
            &mut m,
            41,
            ChatInput::Status(Status::Final(PaymentOutcome::Completed {
                receipt: Some("QX1".into())
            }))
        ),
        vec![ChatOutput::Finished(ChatResult::Paid)]
    );
    assert!(m.is_done());

    // A failure found when asked is told by its notice; a retry follows
    // when asked for.
    let mut m = prompt_open();
    said(&mut m, 20, "haijafika");
    let got = step(
        &mut m,
        21,
        ChatInput::Status(Status::Final(PaymentOutcome::Timeout)),
    );
    assert!(got.is_empty(), "{got:?}");
    assert_eq!(
        said(&mut m, 30, "tena"),
        vec![ChatOutput::PushStk { attempt: 2 }]
    );
}

#[test]
fn a_card_a_wait_and_a_later_payment_while_the_prompt_is_open() {
    let mut m = prompt_open();
    assert_eq!(
        said(&mut m, 10, "nitumie link ya card"),
        vec![ChatOutput::CreatePesapalOrder]
    );
    let url = "https://pay.example/y".to_string();
    assert_eq!(
        step(
            &mut m,
            11,
            ChatInput::OrderCreated {
                redirect_url: url.clone()
            }
        ),
        sent(ChatMessage::PayWithLink { url })
    );

    let mut m = prompt_open();
    assert_eq!(
        said(&mut m, 10, "give me 5 min"),
        sent(ChatMessage::TakeYourTime { can_retry: true })
    );
    assert_eq!(
        said(&mut m, 11, "nitalipa cash nikifika"),
        sent(ChatMessage::PayLater {
            paybill: Some("174379".into())
        })
    );
    assert!(!m.is_done());
    // The booking stands: the deadlines are unchanged.
    assert_eq!(m.deadline(ChatTimer::Abandon), Some(t(1800)));
}

#[test]
fn a_cancel_a_question_and_another_number_are_the_dialogs() {
    for text in [
        "cancel",
        "futa hiyo booking",
        "what time is my appointment?",
        "tuma kwa 0722 000 555",
    ] {
        for mut m in [prompt_open(), after_failure(1)] {
            m.handle_input(ChatInput::CustomerSaid(text.into()), t(20));
            assert!(m.is_for_dialog(), "{text}");
            assert_eq!(drain(&mut m).0, vec![ChatOutput::ForDialog], "{text}");
            assert!(!m.is_done(), "{text}");
        }
    }
    let mut m = prompt_open();
    said(&mut m, 20, "nimelipa");
    assert!(!m.is_for_dialog());
}

/// A change goes to the dialog, which makes it; a payment problem too,
/// which hands the chat to a person. Neither asks M-Pesa nor waits, and
/// the prompt (or the failed attempt) is left as it was.
#[test]
fn a_change_and_a_payment_problem_are_the_dialogs() {
    for text in [
        "hold on, make it 4pm instead before i pay",
        "tubadilishe iwe jumanne kwanza",
        "switch it to gel nails",
        "the money is gone from my account but no confirmation",
        "nimelipa mara mbili, prompt ilikuja mbili",
        "you charged me more than the price",
    ] {
        for mut m in [prompt_open(), after_failure(1)] {
            m.handle_input(ChatInput::CustomerSaid(text.into()), t(20));
            assert!(m.is_for_dialog(), "{text}");
            assert_eq!(drain(&mut m).0, vec![ChatOutput::ForDialog], "{text}");
            assert!(!m.is_done(), "{text}");
        }
    }
}

#[test]
fn after_a_failure_not_received_and_paid_say_what_next() {
    let mut m = after_failure(1);
    assert_eq!(
        said(&mut m, 61, "sijapata"),
        sent(ChatMessage::NotReceivedHelp {
            prompt_open: false,
            can_retry: true,
            paybill: Some("174379".into())
        })
    );
    assert_eq!(
        said(&mut m, 62, "nimelipa"),
        sent(ChatMessage::NotSeenYet { can_retry: true })
    );
    let mut m = after_failure(2);
    assert_eq!(
        said(&mut m, 61, "nimelipa"),
        sent(ChatMessage::NotSeenYet { can_retry: false })
    );
    assert_eq!(
        said(&mut m, 62, "ngoja kidogo"),
        sent(ChatMessage::TakeYourTime { can_retry: false })
    );
}

#[test]
fn an_open_link_asked_for_again_is_a_new_link() {
    let stored = Stored {
        provider: Provider::Pesapal,
        started_at: t(0),
        link: None,
        pushes: 0,
        nudge_sent: false,
        open: true,
    };
    for text in ["tuma tena", "link haijafika"] {
        let mut m = ChatPayment::resume(cfg(), stored.clone(), t(30));
        assert_eq!(
            said(&mut m, 30, text),
            vec![ChatOutput::CreatePesapalOrder],
            "{text}"
        );
    }
    let mut m = ChatPayment::resume(cfg(), stored, t(30));
    assert_eq!(said(&mut m, 30, "nimelipa"), vec![ChatOutput::QueryStatus]);
    assert_eq!(
        step(&mut m, 31, ChatInput::Status(Status::Pending)),
        sent(ChatMessage::Checking {
            provider: Provider::Pesapal
        })
    );
}

#[test]
fn resume_after_restart_honours_stored_deadlines() {
    let stored = |nudge_sent: bool| Stored {
        provider: Provider::Pesapal,
        started_at: t(0),
        link: None,
        pushes: 0,
        nudge_sent,
        open: true,
    };
    // Restarted 100 s in: the nudge (480) and abandon (1800) still stand.
    let mut m = ChatPayment::resume(cfg(), stored(false), t(100));
    assert_eq!(drain(&mut m).1, Some(t(480)));
    assert_eq!(m.deadline(ChatTimer::Abandon), Some(t(1800)));

    // Restarted after the nudge fell due, unsent: it fires at once.
    let mut m = ChatPayment::resume(cfg(), stored(false), t(600));
    assert_eq!(
        step(&mut m, 600, ChatInput::Tick),
        sent(ChatMessage::Nudge { url: None })
    );
    assert_eq!(drain(&mut m).1, Some(t(1800)));

    // Already nudged: only the abandon deadline remains.
    let mut m = ChatPayment::resume(cfg(), stored(true), t(600));
    assert!(step(&mut m, 600, ChatInput::Tick).is_empty());
    assert_eq!(drain(&mut m).1, Some(t(1800)));

    // Restarted after the abandon deadline: the next tick abandons.
    let mpesa = Stored {
        provider: Provider::Mpesa,
        pushes: 1,
        ..stored(true)
    };
    let mut m = ChatPayment::resume(cfg(), mpesa, t(5000));
    assert_eq!(drain(&mut m).1, Some(t(1800)));
    let got = step(&mut m, 5000, ChatInput::Tick);
    assert!(got.contains(&ChatOutput::CloseThreadAbandoned));
}

#[test]
fn messages_render_in_both_languages() {
    let m = ChatMessage::Nudge {
        url: Some("https://x".into()),
    };
    assert!(m.text(Lang::En).contains("https://x"));
    assert!(m.text(Lang::Sw).contains("https://x"));
    assert_ne!(m.text(Lang::En), m.text(Lang::Sw));
}

#[test]
fn answers_are_in_the_customers_language() {
    assert_eq!(answer_lang("haijafika tuma tena", Lang::En), Lang::Sw);
    assert_eq!(answer_lang("give me 5 min", Lang::Sw), Lang::En);
    // Nothing to tell by: the chat's language.
    assert_eq!(answer_lang("ok", Lang::Sw), Lang::Sw);
    assert_eq!(answer_lang("ok", Lang::En), Lang::En);
}
