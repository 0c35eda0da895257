//! The browser's side of notifications: the service worker, the
//! permission, the push subscription, and the notifications themselves.

use domain::chat::message_path;
use domain::notify::{notice, PushSubscription};
use domain::protocol::ServerFrame;
use leptos::prelude::*;
use leptos::wasm_bindgen::closure::Closure;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys;
use wasm_bindgen_futures::JsFuture;

use super::{DeviceState, Notifier};
use crate::i18n::use_texts;

/// Set in `localStorage` when notifications were turned off on this device
/// (a page cannot take back the browser's permission).
const OFF_KEY: &str = "chatsphere-notifications-off";
/// Messages older than this when they arrive (replayed after a reconnect)
/// do not notify.
const FRESH_SECONDS: i64 = 60;

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn supported() -> bool {
    js_sys::Reflect::has(&window(), &JsValue::from_str("Notification")).unwrap_or(false)
}

/// Registers `/sw.js` (scope `/`): the app's files for quick starts, and
/// Web Push. Browsers without service workers go without.
pub(super) fn register_worker() {
    let navigator = window().navigator();
    if !js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false) {
        return;
    }
    let promise = navigator.service_worker().register("/sw.js");
    leptos::task::spawn_local(async move {
        if let Err(err) = JsFuture::from(promise).await {
            leptos::logging::warn!("service worker not registered: {err:?}");
        }
    });
}

/// This device's state as the browser and the user's last choice here say.
pub(super) fn device_state() -> DeviceState {
    if !supported() {
        return DeviceState::Unsupported;
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Denied => DeviceState::Blocked,
        web_sys::NotificationPermission::Granted
            if storage()
                .and_then(|s| s.get_item(OFF_KEY).ok().flatten())
                .is_none() =>
        {
            DeviceState::On
        }
        _ => DeviceState::Off,
    }
}

/// Asks for permission; subscribes to push when the server has it.
pub(super) async fn enable(push_key: Option<String>) -> Result<DeviceState, String> {
    if !supported() {
        return Ok(DeviceState::Unsupported);
    }
    let asked = web_sys::Notification::request_permission().map_err(describe)?;
    JsFuture::from(asked).await.map_err(describe)?;
    if let Some(storage) = storage() {
        let _ = storage.remove_item(OFF_KEY);
    }
    let state = device_state();
    if state == DeviceState::On {
        if let Some(key) = push_key {
            // Without a push service (some browsers, offline, headless),
            // notifications still show while a tab is open.
            if let Err(reason) = subscribe(&key).await {
                leptos::logging::warn!("no Web Push on this device: {reason}");
            }
        }
    }
    Ok(state)
}

async fn registration() -> Result<web_sys::ServiceWorkerRegistration, String> {
    let ready = window()
        .navigator()
        .service_worker()
        .ready()
        .map_err(describe)?;
    JsFuture::from(ready)
        .await
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)
}

async fn subscribe(push_key: &str) -> Result<(), String> {
    let manager = registration().await?.push_manager().map_err(describe)?;
    let options = web_sys::PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    options.set_application_server_key(&base64url_bytes(push_key)?.into());
    let subscribed = JsFuture::from(manager.subscribe_with_options(&options).map_err(describe)?)
        .await
        .map_err(describe)?;
    let json = js_sys::JSON::stringify(&subscribed)
        .map_err(describe)?
        .as_string()
        .unwrap_or_default();
    let subscription: PushSubscription =
        serde_json::from_str(&json).map_err(|err| err.to_string())?;
    crate::pages::settings::notifications::add_device(
        subscription.endpoint,
        subscription.keys.p256dh,
        subscription.keys.auth,
    )
    .await
    .map_err(|err| err.to_string())
}

/// Turns notifications off here: the push subscription ends, and the
/// choice is kept for this browser.
pub(super) async fn disable() {
    if let Some(storage) = storage() {
        let _ = storage.set_item(OFF_KEY, "1");
    }
    let Ok(registration) = registration().await else {
        return;
    };
    let Ok(manager) = registration.push_manager() else {
        return;
    };
    let Ok(found) = manager.get_subscription() else {
        return;
    };
    let Ok(found) = JsFuture::from(found).await else {
        return;
    };
    let Ok(subscription) = found.dyn_into::<web_sys::PushSubscription>() else {
        return;
    };
    let endpoint = subscription.endpoint();
    if let Ok(done) = subscription.unsubscribe() {
        let _ = JsFuture::from(done).await;
    }
    let _ = crate::pages::settings::notifications::remove_device(endpoint).await;
}

/// Shows a notification for each new message the rule says notifies,
/// while the page is hidden or not focused.
pub(super) fn watch_messages() {
    let (Some(live), Some(notifier)) = (
        crate::components::live::use_live(),
        use_context::<Notifier>(),
    ) else {
        return;
    };
    let navigate = leptos_router::hooks::use_navigate();
    let hidden_text = use_texts().notify().new_message;
    // The user's settings, read once signed in (the settings page keeps
    // them current after a change).
    Effect::new(move |_| {
        if live.me.get().is_some() && notifier.prefs.get_untracked().is_none() {
            leptos::task::spawn_local(async move {
                if let Ok(settings) = crate::pages::settings::notifications::load_notify().await {
                    notifier.prefs.set(Some(settings.prefs));
                }
            });
        }
    });
    let seen = StoredValue::new(live.version.get_untracked());
    // New messages wait here until the list knows their conversation.
    let waiting = StoredValue::new(Vec::<domain::ChatMessage>::new());
    Effect::new(move |_| {
        live.version.track();
        notifier.listed.track();
        let (events, newest) = live.since(seen.get_value());
        seen.set_value(newest);
        let now = chrono::Utc::now();
        waiting.update_value(|w| {
            w.extend(events.into_iter().filter_map(|event| match event {
                ServerFrame::Message { message } => Some(message.into_owned()),
                _ => None,
            }));
            // Replayed after a reconnect, or never listed: too late to tell.
            w.retain(|m| (now - m.created_at).num_seconds() <= FRESH_SECONDS);
        });
        let Some(me) = live.me.get_untracked() else {
            return;
        };
        if notifier.device.get_untracked() != DeviceState::On || looked_at() {
            waiting.update_value(Vec::clear);
            return;
        }
        let prefs = notifier.prefs.get_untracked().unwrap_or_default();
        let ready: Vec<_> = waiting
            .try_update_value(|w| {
                let mut ready = Vec::new();
                w.retain(|message| {
                    match notifier
                        .conversations
                        .with_value(|c| c.get(&message.conversation_id).cloned())
                    {
                        Some(info) => {
                            ready.push((message.clone(), info));
                            false
                        }
                        None => true,
                    }
                });
                ready
            })
            .unwrap_or_default();
        for (message, info) in ready {
            if !info
                .notify
                .notifies(prefs.level, info.kind, &message, me, now)
            {
                continue;
            }
            let (title, body) =
                notice(info.kind, &info.name, &message, prefs.previews, hidden_text);
            let path = message_path(message.conversation_id, message.seq);
            show(
                &title,
                &body,
                &message.conversation_id.to_string(),
                path,
                navigate.clone(),
            );
        }
    });
}

/// Whether the person is looking at the page: shown and focused.
fn looked_at() -> bool {
    let document = document();
    document.visibility_state() == web_sys::VisibilityState::Visible
        && document.has_focus().unwrap_or(false)
}

/// One notification per conversation (`tag`): a newer one replaces it. A
/// click brings the tab forward at the message. Where pages may not make
/// notifications themselves (Android), the service worker shows it.
fn show(
    title: &str,
    body: &str,
    tag: &str,
    path: String,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + Clone + 'static,
) {
    let options = web_sys::NotificationOptions::new();
    options.set_body(body);
    options.set_tag(tag);
    options.set_icon("/icons/icon-192.png");
    options.set_renotify(true);
    match web_sys::Notification::new_with_options(title, &options) {
        Ok(notification) => {
            let shown = notification.clone();
            let click = Closure::once_into_js(move || {
                let _ = window().focus();
                navigate(&path, Default::default());
                shown.close();
            });
            notification.set_onclick(Some(click.unchecked_ref()));
        }
        Err(_) => {
            let data = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&data, &"url".into(), &path.into());
            options.set_data(&data);
            let title = title.to_owned();
            leptos::task::spawn_local(async move {
                if let Ok(registration) = registration().await {
                    if let Ok(shown) = registration.show_notification_with_options(&title, &options)
                    {
                        let _ = JsFuture::from(shown).await;
                    }
                }
            });
        }
    }
}

fn base64url_bytes(text: &str) -> Result<js_sys::Uint8Array, String> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let padded = format!("{standard}{}", "=".repeat((4 - standard.len() % 4) % 4));
    let binary = window().atob(&padded).map_err(describe)?;
    let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
    Ok(js_sys::Uint8Array::from(bytes.as_slice()))
}

fn describe(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
