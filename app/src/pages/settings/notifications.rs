//! `/settings/notifications`: what notifies (every device follows it), and
//! this device's notifications (the browser's permission and, where the
//! server has push, its Web Push subscription).

#[cfg(feature = "ssr")]
use domain::notify::NotifyPrefs;
use domain::notify::{NotifyLevel, NotifySettings};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[cfg(feature = "ssr")]
use super::signed_in;
use super::{outcome, RequireSignIn};
use crate::components::notifier::{DeviceState, Notifier};
use crate::i18n::use_texts;
use crate::AppError;

/// The signed-in user's notification settings.
#[server(prefix = "/rpc", endpoint = "settings/notifications")]
pub async fn load_notify() -> Result<NotifySettings, AppError> {
    let (services, auth) = signed_in().await?;
    Ok(services.notify.settings(auth.user_id).await?)
}

/// Saves the settings form; the language is the page's.
#[server(prefix = "/rpc", endpoint = "settings/save_notifications")]
pub async fn save_notify(
    level: String,
    previews: Option<String>,
    email: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = signed_in().await?;
        let level = NotifyLevel::from_stored(&level)
            .ok_or_else(|| AppError::Invalid("level: expected all, mentions or nothing".into()))?;
        let prefs = NotifyPrefs {
            level,
            previews: previews.is_some(),
            email: email.is_some(),
            locale: crate::i18n::request_locale().tag().to_owned(),
        };
        services.notify.set_prefs(auth.user_id, &prefs).await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, "/settings/notifications", "notifications")
}

/// Subscribes this device to Web Push (the browser's subscription).
#[server(prefix = "/rpc", endpoint = "settings/add_device")]
pub async fn add_device(endpoint: String, p256dh: String, auth: String) -> Result<(), AppError> {
    let (services, auth_user) = signed_in().await?;
    let subscription = domain::notify::PushSubscription {
        endpoint,
        keys: domain::notify::PushKeys { p256dh, auth },
    };
    Ok(services.notify.subscribe(&auth_user, &subscription).await?)
}

/// Forgets this device's push subscription.
#[server(prefix = "/rpc", endpoint = "settings/remove_device")]
pub async fn remove_device(endpoint: String) -> Result<(), AppError> {
    let (services, auth) = signed_in().await?;
    Ok(services.notify.unsubscribe(auth.user_id, &endpoint).await?)
}

/// `/settings/notifications`.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let t = use_texts().notify();
    view! {
        <Title text=format!("{} · ChatSphere", t.heading)/>
        <RequireSignIn>
            <NotifyForm/>
        </RequireSignIn>
    }
}

#[component]
fn NotifyForm() -> impl IntoView {
    let save = ServerAction::<SaveNotify>::new();
    let settings = Resource::new(move || save.version().get(), |_| load_notify());
    let texts = use_texts();
    let t = texts.notify();
    let query = use_query_map();
    let status = move || outcome(save.value().get(), &query.read(), "notifications", t.saved);
    view! {
        <section class="panel auth-panel notify-settings">
            <h1>{t.heading}</h1>
            <Suspense fallback=move || view! { <p class="muted">{texts.loading}</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => {
                        if let Some(notifier) = use_context::<Notifier>() {
                            notifier.prefs.set(Some(s.prefs.clone()));
                        }
                        view! {
                            <ActionForm action=save attr:class="form" attr:id="notify-form">
                                <fieldset class="choices">
                                    <legend>{t.level_label}</legend>
                                    {[NotifyLevel::All, NotifyLevel::Mentions, NotifyLevel::Nothing].into_iter().map(|level| view! {
                                        <label class="choice">
                                            <input type="radio" name="level" value=level.as_str() checked=s.prefs.level == level/>
                                            {t.level(level)}
                                        </label>
                                    }).collect_view()}
                                </fieldset>
                                <label class="choice">
                                    <input type="checkbox" name="previews" checked=s.prefs.previews/>
                                    {t.previews}
                                </label>
                                <label class="choice">
                                    <input type="checkbox" name="email" checked=s.prefs.email
                                        disabled=!(s.email_available && s.has_email)/>
                                    {t.email}
                                </label>
                                // A disabled box is not sent: its choice is kept as it was.
                                {(!(s.email_available && s.has_email) && s.prefs.email).then(|| view! {
                                    <input type="hidden" name="email" value="on"/>
                                })}
                                {(!s.email_available).then(|| view! { <p class="muted fine-print">{t.email_off}</p> })}
                                {(s.email_available && !s.has_email).then(|| view! {
                                    <p class="muted fine-print">{t.email_needs_address}</p>
                                })}
                                <button class="button" type="submit">{t.save}</button>
                            </ActionForm>
                            <DeviceSection push_key=s.push_key/>
                        }.into_any()
                        }
                        Err(err) => view! { <p class="error" role="alert">{texts.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {move || status().map(|(ok, text)| view! {
                <p class=if ok { "success" } else { "error" } role="status">{text}</p>
            })}
        </section>
    }
}

/// This device: whether it shows notifications, and the button that asks.
#[component]
fn DeviceSection(push_key: Option<String>) -> impl IntoView {
    let t = use_texts().notify();
    let notifier = use_context::<Notifier>();
    let state = notifier.map_or_else(|| RwSignal::new(DeviceState::Unknown), |n| n.device);
    let failed = RwSignal::new(None::<String>);
    let has_push = push_key.is_some();
    let key = StoredValue::new(push_key);
    let enable = move |_| {
        let Some(notifier) = notifier else { return };
        failed.set(None);
        leptos::task::spawn_local(async move {
            if let Err(reason) = notifier.enable(key.get_value()).await {
                failed.set(Some(reason));
            }
        });
    };
    let disable = move |_| {
        let Some(notifier) = notifier else { return };
        leptos::task::spawn_local(async move {
            notifier.disable().await;
        });
    };
    view! {
        <div class="device-notifications" data-state=move || state.get().as_str()>
            <h2>{t.device}</h2>
            {move || match state.get() {
                DeviceState::On => view! {
                    <p class="success">{t.enabled}</p>
                    <button class="button secondary" type="button" on:click=disable>{t.disable}</button>
                }.into_any(),
                DeviceState::Blocked => view! { <p class="error">{t.denied}</p> }.into_any(),
                DeviceState::Unsupported => view! { <p class="muted">{t.unsupported}</p> }.into_any(),
                // Before hydration the button cannot work: it waits.
                DeviceState::Unknown | DeviceState::Off => view! {
                    <button class="button" type="button" id="enable-notifications"
                        disabled=move || state.get() == DeviceState::Unknown
                        on:click=enable>{t.enable}</button>
                }.into_any(),
            }}
            {(!has_push).then(|| view! { <p class="muted fine-print">{t.push_off}</p> })}
            {move || failed.get().map(|reason| view! { <p class="error" role="alert">{reason}</p> })}
        </div>
    }
}
