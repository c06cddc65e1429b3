//! A payment gone wrong goes to a person, and a change sent while the
//! payment is pending is made: both reach the dialog from the payment
//! reader (`core::payment::reply`) as they would with no payment open.

use super::*;

/// A manicure booked tomorrow at 10, its payment asked for.
fn booked() -> World {
    let mut w = World::new();
    w.config.payment_on_booking = true;
    w.say("manicure tomorrow at 10am");
    w.say("yes");
    assert_eq!(w.booked_local(), ["2026-11-26 10:00"]);
    assert!(
        w.actions
            .iter()
            .any(|a| matches!(a, Action::StartPayment { .. }))
    );
    w
}

fn handed_off_for_payment(w: &World) -> bool {
    w.state.handed_off()
        && w.actions.iter().any(|a| {
            matches!(
                a,
                Action::HandOff {
                    reason: HandoffReason::PaymentProblem
                }
            )
        })
}

#[test]
fn a_payment_problem_is_handed_to_a_person() {
    for text in [
        "pesa zimekatwa lakini sijapata message ya confirmation",
        "the money left my account, no sms from you guys",
        "I paid two times, the prompt came twice",
        "nmelipa mara mbili",
        "mlinikata 1500 badala ya 1000",
    ] {
        let mut w = booked();
        let r = w.say(text);
        assert!(handed_off_for_payment(&w), "{text}: {:?}", w.actions);
        assert!(r.contains("Nywele Bora Salon"), "{text}: {r}");
    }
}

#[test]
fn on_a_call_a_payment_problem_is_promised_a_call_back() {
    let mut w = booked();
    w.send_channel = Channel::Voice;
    let r = w.say("i think i was charged twice for the booking");
    assert!(handed_off_for_payment(&w), "{:?}", w.actions);
    assert!(r.to_lowercase().contains("call"), "{r}");
}

#[test]
fn a_payment_that_went_through_is_not_a_problem() {
    let mut w = booked();
    w.say("imekatwa, asante");
    assert!(!w.state.handed_off());
}

#[test]
fn a_change_while_the_payment_is_pending_is_made() {
    for (text, at) in [
        (
            "hold on, make it 2pm instead, then i'll pay",
            "2026-11-26 14:00",
        ),
        ("can we change it to friday first", "2026-11-27 10:00"),
        ("badilisha iwe saa nane kwanza", "2026-11-26 14:00"),
    ] {
        let mut w = booked();
        w.say(text);
        w.say("yes");
        assert_eq!(w.booked_local(), [at], "{text}");
    }
    let mut w = booked();
    let r = w.say("actually make it a pedicure");
    assert!(r.contains("to Pedicure"), "{r}");
}
