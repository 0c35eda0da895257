//! The browser's side of the clock: its zone and offsets (by its own
//! time zone data, through `Date` and `Intl`), the zone the server
//! rendered in, and the switch to local times once hydrated.

use chrono::{DateTime, FixedOffset, Utc};
use leptos::prelude::*;
use leptos::wasm_bindgen::{JsCast, JsValue};

use super::{Clock, MAX_TZ_CHARS};

/// The browser's offset at `at`, by its own clock.
pub(super) fn offset(at: DateTime<Utc>) -> Option<FixedOffset> {
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    // Minutes *behind* UTC.
    let behind = date.get_timezone_offset();
    if !behind.is_finite() {
        return None;
    }
    FixedOffset::west_opt((behind * 60.0) as i32)
}

/// The offset of `zone` at `at`, by the browser's time zone data.
pub(super) fn offset_in(zone: &str, at: DateTime<Utc>) -> Option<FixedOffset> {
    use chrono::NaiveDate;
    let options = js_sys::Object::new();
    let set = |key: &str, value: &str| {
        js_sys::Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value))
    };
    set("timeZone", zone).ok()?;
    set("hourCycle", "h23").ok()?;
    for key in ["year", "month", "day", "hour", "minute", "second"] {
        set(key, "numeric").ok()?;
    }
    let format = js_sys::Intl::DateTimeFormat::new(
        &js_sys::Array::of1(&JsValue::from_str("en-US")),
        &options,
    );
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    let parts = format.format_to_parts(&date);
    let mut fields = [0i64; 6];
    for part in parts.iter() {
        let kind = js_sys::Reflect::get(&part, &JsValue::from_str("type"))
            .ok()?
            .as_string()?;
        let value = js_sys::Reflect::get(&part, &JsValue::from_str("value"))
            .ok()?
            .as_string()?;
        let slot = ["year", "month", "day", "hour", "minute", "second"]
            .iter()
            .position(|k| *k == kind);
        if let (Some(slot), Ok(number)) = (slot, value.parse::<i64>()) {
            fields[slot] = number;
        }
    }
    let [year, month, day, hour, minute, second] = fields;
    let wall = NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)?.and_hms_opt(
        hour as u32,
        minute as u32,
        second as u32,
    )?;
    let seconds = wall.and_utc().timestamp() - at.timestamp();
    FixedOffset::east_opt(i32::try_from(seconds).ok()?)
}

/// The zone the server rendered the page in (empty: UTC).
pub(super) fn rendered_zone() -> String {
    document()
        .query_selector(&format!("meta[name={}]", super::TZ_META))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .filter(|z| z.len() <= MAX_TZ_CHARS)
        .unwrap_or_default()
}

/// The browser's IANA zone name.
fn zone() -> Option<String> {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &JsValue::from_str("timeZone"))
        .ok()?
        .as_string()
        .filter(|z| !z.is_empty() && z.len() <= MAX_TZ_CHARS)
}

fn html_document() -> Option<leptos::web_sys::HtmlDocument> {
    document().dyn_into::<leptos::web_sys::HtmlDocument>().ok()
}

/// Local times from the start if the server rendered in the browser's
/// zone; otherwise from just after hydration, remembering the zone.
pub(super) fn start(clock: Clock) {
    let zone = zone();
    if zone.is_some() && zone.as_deref() == Some(clock.rendered.get_value().as_str()) {
        clock.local.set(true);
        return;
    }
    Effect::new(move |_| {
        if let (Some(zone), Some(doc)) = (zone.clone(), html_document()) {
            let https = window().location().protocol().ok().as_deref() == Some("https:");
            let _ = doc.set_cookie(&super::tz_cookie(&zone, https));
        }
        clock.local.set(true);
    });
}
