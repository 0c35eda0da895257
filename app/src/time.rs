//! Times as the reader's clock shows them. The browser keeps its IANA time
//! zone in the `tz` cookie, so the server renders local times too, and
//! names the zone it rendered in (`<meta name="chatsphere-tz">`; empty for
//! UTC). The browser hydrates in that very zone — the same text and the
//! same day separators as the server's — then switches to its own clock
//! (at once when they are the same zone; on a first visit, with no cookie
//! yet, or after the zone changed, every time is rendered again). Formats follow the page's
//! language: "Today", "Yesterday", weekday and date separators, the full
//! date and time on hover.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike, Utc};
use leptos::prelude::*;

use crate::i18n::Locale;

/// The cookie that holds the browser's time zone (e.g. `Asia/Shanghai`).
pub const TZ_COOKIE: &str = "tz";
/// Longest time zone name taken from the cookie (IANA names are shorter).
pub const MAX_TZ_CHARS: usize = 64;
/// The name of the `<meta>` that says which zone the server rendered in.
pub const TZ_META: &str = "chatsphere-tz";

/// The reader's clock, provided by the app.
#[derive(Clone, Copy)]
pub struct Clock {
    /// The zone the server renders in (from the cookie); UTC without one.
    #[cfg(feature = "ssr")]
    zone: Option<chrono_tz::Tz>,
    /// In the browser: the zone the server rendered in (empty: UTC), used
    /// until the page is hydrated.
    #[cfg(feature = "hydrate")]
    rendered: StoredValue<String>,
    /// In the browser: times are the browser's local ones. False while the
    /// page still shows what the server rendered in another zone.
    local: RwSignal<bool>,
}

impl Clock {
    /// Provides the clock for the request (server) or the browser.
    pub fn provide() -> Self {
        let clock = Self {
            #[cfg(feature = "ssr")]
            zone: request_zone(),
            #[cfg(feature = "hydrate")]
            rendered: StoredValue::new(browser::rendered_zone()),
            local: RwSignal::new(false),
        };
        #[cfg(feature = "hydrate")]
        browser::start(clock);
        provide_context(clock);
        clock
    }

    /// The offset from UTC of the reader's zone at `at` (tracked: a page
    /// re-renders its times when the browser's zone takes over).
    pub fn offset(&self, at: DateTime<Utc>) -> FixedOffset {
        let utc = FixedOffset::east_opt(0).expect("zero is a valid offset");
        #[cfg(feature = "ssr")]
        if let Some(zone) = self.zone {
            use chrono::{Offset, TimeZone};
            return zone.offset_from_utc_datetime(&at.naive_utc()).fix();
        }
        #[cfg(feature = "hydrate")]
        {
            if self.local.get() {
                return browser::offset(at).unwrap_or(utc);
            }
            let rendered = self.rendered.get_value();
            if !rendered.is_empty() {
                return browser::offset_in(&rendered, at).unwrap_or(utc);
            }
        }
        let _ = (at, self.local);
        utc
    }

    /// `at` in the reader's zone.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        at.with_timezone(&self.offset(at))
    }

    /// The zone's name as the server rendered in it (empty: UTC).
    pub fn zone_name(&self) -> String {
        #[cfg(feature = "ssr")]
        return self.zone.map(|z| z.name().to_owned()).unwrap_or_default();
        #[cfg(feature = "hydrate")]
        return self.rendered.get_value();
        #[allow(unreachable_code)]
        String::new()
    }

    /// Today's date in the reader's zone.
    pub fn today(&self) -> NaiveDate {
        self.local(Utc::now()).date_naive()
    }
}

/// The clock, or one showing UTC outside the app.
pub fn use_clock() -> Clock {
    use_context::<Clock>().unwrap_or_else(|| Clock {
        #[cfg(feature = "ssr")]
        zone: None,
        #[cfg(feature = "hydrate")]
        rendered: StoredValue::new(String::new()),
        local: RwSignal::new(false),
    })
}

/// Names the zone the server rendered the page's times in, for the browser
/// to hydrate in the same one.
#[component]
pub fn ZoneMeta() -> impl IntoView {
    let clock = use_clock();
    view! { <leptos_meta::Meta name=TZ_META content=clock.zone_name()/> }
}

// Times are formatted by hand rather than with chrono's `format`: its
// strftime parser would be about 30 KB of the browser's WebAssembly for the
// few fixed shapes the app shows.

/// `14:05`.
pub fn clock_time(at: impl Timelike) -> String {
    format!("{:02}:{:02}", at.hour(), at.minute())
}

/// `2026-12-01 14:05` (a day and a time, as the admin view lists them).
pub fn date_minute(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {}",
        at.year(),
        at.month(),
        at.day(),
        clock_time(at)
    )
}

/// `2026-12-01 14:05:09`.
pub fn date_second(at: DateTime<Utc>) -> String {
    format!("{}:{:02}", date_minute(at), at.second())
}

/// `UTC+08:00`, `UTC-03:30`, `UTC+00:00`.
fn zone_label(offset: FixedOffset) -> String {
    let seconds = offset.local_minus_utc();
    let sign = if seconds < 0 { '-' } else { '+' };
    // To the nearest minute, as chrono's `%:z` (historic zones had
    // offsets with seconds, such as Monrovia's −00:44:30).
    let minutes = (seconds.unsigned_abs() + 30) / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A day as a separator names it: "Today", "Yesterday", else the weekday
/// and date ("Monday, November 30"; with the year when not this year).
pub fn day_label(day: NaiveDate, today: NaiveDate, locale: Locale) -> String {
    let days_ago = (today - day).num_days();
    match (locale, days_ago) {
        (Locale::En, 0) => "Today".to_owned(),
        (Locale::En, 1) => "Yesterday".to_owned(),
        (Locale::ZhCn, 0) => "今天".to_owned(),
        (Locale::ZhCn, 1) => "昨天".to_owned(),
        _ => date_label(day, day.year() != today.year(), locale),
    }
}

/// The full date and time (a hover's title): "Tuesday, December 1, 2026,
/// 14:05 (UTC+08:00)" / "2026年12月1日 星期二 14:05（UTC+08:00）".
pub fn full_label(at: DateTime<FixedOffset>, locale: Locale) -> String {
    let date = date_label(at.date_naive(), true, locale);
    let zone = zone_label(*at.offset());
    match locale {
        Locale::En => format!("{date}, {} ({zone})", clock_time(at)),
        Locale::ZhCn => format!("{date} {}（{zone}）", clock_time(at)),
    }
}

/// "Last seen" as people say it: the time today, "Yesterday 14:05", else
/// the date and time.
pub fn seen_label(at: DateTime<FixedOffset>, today: NaiveDate, locale: Locale) -> String {
    let day = at.date_naive();
    if day == today {
        return clock_time(at);
    }
    match (locale, (today - day).num_days()) {
        // Inside a sentence: "last seen yesterday at 14:05".
        (Locale::En, 1) => format!("yesterday at {}", clock_time(at)),
        _ => format!("{} {}", day_label(day, today, locale), clock_time(at)),
    }
}

fn date_label(day: NaiveDate, with_year: bool, locale: Locale) -> String {
    const EN_DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const EN_MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const ZH_DAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    let weekday = day.weekday().num_days_from_monday() as usize;
    let (month, date, year) = (day.month(), day.day(), day.year());
    match (locale, with_year) {
        (Locale::En, false) => format!(
            "{}, {} {date}",
            EN_DAYS[weekday],
            EN_MONTHS[month as usize - 1]
        ),
        (Locale::En, true) => format!(
            "{}, {} {date}, {year}",
            EN_DAYS[weekday],
            EN_MONTHS[month as usize - 1]
        ),
        (Locale::ZhCn, false) => format!("{month}月{date}日 星期{}", ZH_DAYS[weekday]),
        (Locale::ZhCn, true) => format!("{year}年{month}月{date}日 星期{}", ZH_DAYS[weekday]),
    }
}

/// A message's time: `14:05`, the full date and time on hover.
#[component]
pub fn LocalTime(at: DateTime<Utc>) -> impl IntoView {
    let clock = use_clock();
    let locale = use_context::<Locale>().unwrap_or_default();
    let local = move || clock.local(at);
    view! {
        <time datetime=at.to_rfc3339() title=move || full_label(local(), locale)>
            {move || clock_time(local())}
        </time>
    }
}

/// The `tz` cookie as the browser sets it (`document.cookie`): a year,
/// `SameSite=Lax`, and `Secure` when the page came over HTTPS.
#[cfg(any(feature = "hydrate", test))]
pub(crate) fn tz_cookie(zone: &str, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{TZ_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        zone.replace('/', "%2F")
    )
}

/// The zone in the request's `tz` cookie, if it names one.
#[cfg(feature = "ssr")]
fn request_zone() -> Option<chrono_tz::Tz> {
    zone_from_cookie(&crate::state::request_cookie(TZ_COOKIE)?)
}

/// A cookie's zone name, bounded before it is looked up.
#[cfg(feature = "ssr")]
pub fn zone_from_cookie(value: &str) -> Option<chrono_tz::Tz> {
    if value.is_empty() || value.len() > MAX_TZ_CHARS {
        return None;
    }
    let name = value.replace("%2F", "/").replace("%2f", "/");
    name.parse().ok()
}

#[cfg(feature = "hydrate")]
mod browser;

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn days_are_named_as_people_say_them() {
        let today = day(2026, 12, 1);
        let cases = [
            (today, Locale::En, "Today"),
            (today, Locale::ZhCn, "今天"),
            (day(2026, 11, 30), Locale::En, "Yesterday"),
            (day(2026, 11, 30), Locale::ZhCn, "昨天"),
            (day(2026, 11, 27), Locale::En, "Friday, November 27"),
            (day(2026, 11, 27), Locale::ZhCn, "11月27日 星期五"),
            (
                day(2025, 12, 31),
                Locale::En,
                "Wednesday, December 31, 2025",
            ),
            (day(2025, 12, 31), Locale::ZhCn, "2025年12月31日 星期三"),
        ];
        for (date, locale, label) in cases {
            assert_eq!(
                day_label(date, today, locale),
                label,
                "{date} in {locale:?}"
            );
        }
    }

    #[test]
    fn the_zone_cookie_is_secure_over_https() {
        assert_eq!(
            tz_cookie("Asia/Shanghai", true),
            "tz=Asia%2FShanghai; Path=/; Max-Age=31536000; SameSite=Lax; Secure"
        );
        assert!(!tz_cookie("UTC", false).contains("Secure"));
    }

    #[test]
    fn fixed_shapes_are_zero_padded_and_zones_signed() {
        let at: DateTime<Utc> = "2026-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(clock_time(at), "03:04");
        assert_eq!(date_minute(at), "2026-01-02 03:04");
        assert_eq!(date_second(at), "2026-01-02 03:04:05");
        let zone = |seconds| zone_label(FixedOffset::east_opt(seconds).unwrap());
        assert_eq!(zone(0), "UTC+00:00");
        assert_eq!(zone(8 * 3600), "UTC+08:00");
        assert_eq!(zone(-(3 * 3600 + 1800)), "UTC-03:30");
        assert_eq!(zone(5 * 3600 + 45 * 60), "UTC+05:45");
        // What chrono's `%:z` says, for every zone the cookie may name.
        let with_seconds = [
            -(44 * 60 + 30),
            44 * 60 + 29,
            5 * 3600 + 59 * 60 + 30,
            -1,
            29,
            30,
        ];
        for seconds in (-12 * 3600..=14 * 3600).step_by(900).chain(with_seconds) {
            let offset = FixedOffset::east_opt(seconds).unwrap();
            let expected = format!("UTC{}", at.with_timezone(&offset).format("%:z"));
            assert_eq!(zone_label(offset), expected);
        }
    }

    #[test]
    fn a_time_in_the_readers_zone_with_the_full_date_on_hover() {
        let at: DateTime<Utc> = "2026-11-30T23:30:00Z".parse().unwrap();
        let shanghai = at.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(clock_time(shanghai), "07:30");
        assert_eq!(
            full_label(shanghai, Locale::En),
            "Tuesday, December 1, 2026, 07:30 (UTC+08:00)"
        );
        assert_eq!(
            full_label(shanghai, Locale::ZhCn),
            "2026年12月1日 星期二 07:30（UTC+08:00）"
        );
        assert_eq!(seen_label(shanghai, day(2026, 12, 1), Locale::En), "07:30");
        assert_eq!(
            seen_label(shanghai, day(2026, 12, 2), Locale::En),
            "yesterday at 07:30"
        );
        assert_eq!(
            seen_label(shanghai, day(2026, 12, 2), Locale::ZhCn),
            "昨天 07:30"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_zone_cookie_is_bounded_and_checked() {
        assert_eq!(
            zone_from_cookie("Asia%2FShanghai"),
            Some(chrono_tz::Tz::Asia__Shanghai)
        );
        assert_eq!(
            zone_from_cookie("Europe/Berlin"),
            Some(chrono_tz::Tz::Europe__Berlin)
        );
        assert_eq!(zone_from_cookie("Mars/Olympus"), None);
        assert_eq!(zone_from_cookie(""), None);
        assert_eq!(zone_from_cookie(&"A".repeat(10_000)), None);
        // A zone's offset follows daylight saving time at each instant.
        Owner::new().with(|| {
            let clock = Clock {
                zone: zone_from_cookie("Europe/Berlin"),
                local: RwSignal::new(false),
            };
            let winter: DateTime<Utc> = "2026-01-15T12:00:00Z".parse().unwrap();
            let summer: DateTime<Utc> = "2026-07-15T12:00:00Z".parse().unwrap();
            assert_eq!(clock.offset(winter).local_minus_utc(), 3600);
            assert_eq!(clock.offset(summer).local_minus_utc(), 7200);
        });
    }
}
