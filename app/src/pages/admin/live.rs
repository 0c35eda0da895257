//! The live panel: users online, connections of this server process,
//! messages of the last minute, and a bar chart of messages per minute,
//! read again every [`REFRESH`] while the page is open.

use std::time::Duration;

use domain::{LiveCounts, MinuteCount};
use leptos::prelude::*;

use crate::components::auth_state::AuthActions;
use crate::i18n::use_texts;
use crate::time::clock_time;
use crate::AppError;

/// How often the open page reads the counts again.
const REFRESH: Duration = Duration::from_secs(10);
/// The chart's drawing size (SVG user units; CSS scales it to the panel).
const CHART_WIDTH: f64 = 300.0;
const CHART_HEIGHT: f64 = 60.0;

/// The live counts (admins only).
#[server(prefix = "/rpc", endpoint = "admin/live")]
pub async fn admin_live() -> Result<LiveCounts, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    Ok(services
        .admin
        .live(auth.user_id, &services.presence, &services.connections)
        .await?)
}

/// The counts, read again whenever `tick` moves.
#[derive(Clone, Copy)]
pub(super) struct LiveData {
    tick: RwSignal<u32>,
    counts: Resource<Result<LiveCounts, AppError>>,
}

impl LiveData {
    pub(super) fn new(actions: AuthActions) -> Self {
        let tick = RwSignal::new(0u32);
        let counts = Resource::new(
            move || tick.get(),
            move |_| super::for_admins(actions, admin_live()),
        );
        Self { tick, counts }
    }
}

#[component]
pub(super) fn LivePanel(data: LiveData) -> impl IntoView {
    let t = use_texts();
    let a = t.admin();
    let LiveData { tick, counts } = data;
    // In the browser only (effects do not run on the server).
    Effect::new(move |_| {
        if let Ok(timer) = set_interval_with_handle(move || tick.update(|n| *n += 1), REFRESH) {
            on_cleanup(move || timer.clear());
        }
    });
    view! {
        <section class="panel admin-panel" id="live" aria-labelledby="live-title">
            <h2 id="live-title">{a.live_title}</h2>
            <Transition fallback=move || view! { <p class="muted">{t.loading}</p> }>
                {move || Suspend::new(async move {
                    match counts.await {
                        Ok(counts) => view! { <Figures counts/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Figures(counts: LiveCounts) -> impl IntoView {
    let a = use_texts().admin();
    view! {
        <dl class="live-figures">
            <div>
                <dt>{a.online_users}</dt>
                <dd data-live="online">{counts.online_users}</dd>
            </div>
            <div>
                <dt>{a.connections}</dt>
                <dd data-live="connections">{counts.connections}</dd>
            </div>
            <div>
                <dt>{a.messages_per_minute}</dt>
                <dd data-live="messages">{counts.messages_last_minute}</dd>
            </div>
        </dl>
        <Chart per_minute=counts.per_minute/>
    }
}

/// One bar per minute, the newest on the right; each bar's tooltip says
/// its minute (UTC) and count. Presentation attributes and classes only:
/// the page's CSP allows no inline styles.
#[component]
fn Chart(per_minute: Vec<MinuteCount>) -> impl IntoView {
    let a = use_texts().admin();
    let most = per_minute.iter().map(|m| m.messages).max().unwrap_or(0);
    let slot = CHART_WIDTH / per_minute.len().max(1) as f64;
    let bars = per_minute
        .iter()
        .enumerate()
        .map(|(i, minute)| {
            let height = bar_height(minute.messages, most);
            let label = format!("{} UTC · {}", clock_time(minute.minute), minute.messages);
            view! {
                <rect
                    class="chart-bar"
                    data-messages=minute.messages.to_string()
                    x=hundredths(i as f64 * slot + 1.0)
                    y=hundredths(CHART_HEIGHT - height)
                    width=hundredths((slot - 2.0).max(1.0))
                    height=hundredths(height)
                >
                    <title>{label}</title>
                </rect>
            }
        })
        .collect_view();
    let first = per_minute.first().map(|m| clock_time(m.minute));
    let last = per_minute
        .last()
        .map(|m| format!("{} UTC", clock_time(m.minute)));
    view! {
        <figure class="chart">
            <svg
                class="chart-svg"
                viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=a.chart_label
            >
                <line class="chart-axis" x1="0" y1=CHART_HEIGHT.to_string() x2=CHART_WIDTH.to_string() y2=CHART_HEIGHT.to_string()/>
                {bars}
            </svg>
            <figcaption class="chart-scale muted">
                <span>{first}</span>
                <span>{format!("{} {}", a.chart_label, a.chart_max.replace("{n}", &most.to_string()))}</span>
                <span>{last}</span>
            </figcaption>
        </figure>
    }
}

/// A coordinate with two decimals (`12.50`), for the SVG. Integer arithmetic:
/// Rust's float formatting would be about 15 KB of the browser's
/// WebAssembly. The chart's coordinates are never negative.
fn hundredths(value: f64) -> String {
    let hundredths = (value.max(0.0) * 100.0).round() as u64;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// A bar's height: proportional to the busiest minute, at least a sliver
/// for a minute with any message.
fn bar_height(messages: u32, most: u32) -> f64 {
    if messages == 0 || most == 0 {
        return 0.0;
    }
    (f64::from(messages) / f64::from(most) * (CHART_HEIGHT - 2.0)).max(2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_busiest_minute_and_quiet_minutes_are_flat() {
        assert_eq!(bar_height(0, 0), 0.0);
        assert_eq!(bar_height(0, 9), 0.0);
        assert_eq!(bar_height(9, 9), CHART_HEIGHT - 2.0);
        assert_eq!(bar_height(1, 1000), 2.0, "one message stays visible");
        assert!((bar_height(3, 6) - (CHART_HEIGHT - 2.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn coordinates_have_two_decimals_rounded() {
        let cases = [
            (0.0, "0.00"),
            (1.0, "1.00"),
            (12.5, "12.50"),
            (58.004, "58.00"),
            (58.005_1, "58.01"),
            (299.999, "300.00"),
            (-0.4, "0.00"),
        ];
        for (value, text) in cases {
            assert_eq!(hundredths(value), text, "{value}");
        }
    }
}
