//! What the dialog waits for next, as the turn engine's hint: a caller
//! reading out digits or recalling a date pauses mid-answer, so endpointing
//! waits longer then; a yes-or-no question does not.
//!
//! Pure, over the checkpointed [`DialogState`]; every step is named (no
//! wildcard), so a new step has to say what it waits for.

use super::machine::{DialogState, Step};
use crate::core::turn::Expectation;

/// The answer the dialog's current step waits for.
pub fn expecting(state: &DialogState) -> Expectation {
    of_step(&state.step)
}

fn of_step(step: &Step) -> Expectation {
    match step {
        // "Shall I book it?" / "Shall I cancel it?"
        Step::ConfirmSlot(_) | Step::ConfirmCancel(_) => Expectation::YesNo,
        // "What day and time would suit you?"
        Step::AskNewTime(_) => Expectation::Date,
        // "What is your phone number?"
        // "What is your phone number?" / "Please type the code."
        Step::CollectPhone(_) | Step::EnterCode(_) => Expectation::PhoneNumber,
        // A looked-up answer resumes the step it interrupted.
        Step::AwaitKnowledge(k) => of_step(&k.resume),
        // Choices among offered services, times or appointments are named
        // ("the second one", "haircut"), not read out; the rest wait for
        // anything the caller wants to say, or for the runtime.
        Step::Idle
        | Step::ChooseService(_)
        | Step::AwaitSlots(_)
        | Step::ChooseSlot(_)
        | Step::AwaitWrite(_)
        | Step::AwaitUpcoming(_)
        | Step::ChooseAppointment(_)
        | Step::AwaitCancel(_)
        | Step::AwaitCode(_)
        | Step::HandedOff => Expectation::Anything,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dialog::machine::{AskNewTime, AwaitKnowledge};
    use crate::core::dialog::{AppointmentSummary, intent::Intent};

    fn state(step: Step) -> DialogState {
        DialogState {
            step,
            ..DialogState::default()
        }
    }

    #[test]
    fn a_new_conversation_expects_anything() {
        assert_eq!(expecting(&DialogState::default()), Expectation::Anything);
    }

    #[test]
    fn asking_for_a_new_time_expects_a_date_even_behind_a_knowledge_lookup() {
        let ask = Step::AskNewTime(AskNewTime {
            appointment: sample_appointment(),
        });
        assert_eq!(expecting(&state(ask.clone())), Expectation::Date);
        let lookup = Step::AwaitKnowledge(AwaitKnowledge {
            question: Intent::AskHours,
            words: Vec::new(),
            resume: Box::new(ask),
            categories: Vec::new(),
            then: None,
            routed: false,
        });
        assert_eq!(expecting(&state(lookup)), Expectation::Date);
    }

    #[test]
    fn confirming_a_cancellation_expects_yes_or_no() {
        let step = Step::ConfirmCancel(sample_appointment());
        assert_eq!(expecting(&state(step)), Expectation::YesNo);
    }

    fn sample_appointment() -> AppointmentSummary {
        let start = chrono::DateTime::UNIX_EPOCH;
        AppointmentSummary {
            id: uuid::Uuid::nil(),
            service_id: uuid::Uuid::nil(),
            staff_id: uuid::Uuid::nil(),
            start,
            end: start + chrono::Duration::minutes(30),
        }
    }
}
