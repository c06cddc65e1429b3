//! Checks on what the caller sends: free text trimmed, bounded and without
//! NUL (which Postgres text cannot hold); times and dates within a sane
//! range.

use super::error::AppError;

/// A required text field: trimmed, 1 to `max` characters.
pub fn required<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, AppError> {
    optional(field, Some(value), max)?
        .ok_or_else(|| AppError::invalid(format!("{field} must not be empty")))
}

/// An optional text field: trimmed; empty is absent; at most `max`
/// characters.
pub fn optional<'a>(
    field: &str,
    value: Option<&'a str>,
    max: usize,
) -> Result<Option<&'a str>, AppError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.contains('\0') {
        return Err(AppError::invalid(format!("{field} must not contain NUL")));
    }
    if v.chars().count() > max {
        return Err(AppError::invalid(format!(
            "{field} must be at most {max} characters"
        )));
    }
    Ok(Some(v))
}

/// The instants the API takes: from 2000 to 2100 (anything else is a
/// mistake, and would overflow the arithmetic on times).
pub fn instant(
    field: &str,
    t: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    use chrono::Datelike;
    if (2000..2100).contains(&t.year()) {
        Ok(t)
    } else {
        Err(AppError::invalid(format!(
            "{field} must be between 2000 and 2100"
        )))
    }
}

/// An optional instant, checked as [`instant`].
pub fn instant_opt(
    field: &str,
    t: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    t.map(|t| instant(field, t)).transpose()
}

/// A calendar date from 1900 to 2100.
pub fn date(field: &str, d: chrono::NaiveDate) -> Result<chrono::NaiveDate, AppError> {
    use chrono::Datelike;
    if (1900..2100).contains(&d.year()) {
        Ok(d)
    } else {
        Err(AppError::invalid(format!(
            "{field} must be between 1900 and 2100"
        )))
    }
}
