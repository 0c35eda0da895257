//! A conversation's notification menu: its own level (or the default),
//! and muting for a while or until unmuted. Plain forms, so it works
//! without JavaScript.

#[cfg(feature = "ssr")]
use chrono::Duration;
use chrono::Utc;
use domain::notify::{mute_forever, ConversationNotify, NotifyLevel};
use leptos::prelude::*;
use uuid::Uuid;

use crate::components::conversation_list::RefreshList;
use crate::i18n::use_texts;
use crate::AppError;

/// The mute choices, in seconds (the last: until unmuted).
#[cfg(feature = "ssr")]
const MUTES: [Option<i64>; 5] = [
    Some(3600),
    Some(8 * 3600),
    Some(86_400),
    Some(7 * 86_400),
    None,
];

/// The reader's setting for a conversation.
#[server(prefix = "/rpc", endpoint = "conversation/notify")]
pub async fn load_conversation_notify(
    conversation_id: Uuid,
) -> Result<ConversationNotify, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    Ok(services
        .notify
        .conversation(auth.user_id, conversation_id)
        .await?)
}

/// Applies one menu choice: `default`, a level (`all`, `mentions`,
/// `nothing`), `mute-<i>` (the i-th of the mute choices) or `unmute`.
#[server(prefix = "/rpc", endpoint = "conversation/set_notify")]
pub async fn set_conversation_notify(
    conversation_id: Uuid,
    choice: String,
) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        let mut setting = services
            .notify
            .conversation(auth.user_id, conversation_id)
            .await?;
        match choice.as_str() {
            "default" => setting.level = None,
            "unmute" => setting.muted_until = None,
            other => {
                if let Some(level) = NotifyLevel::from_stored(other) {
                    setting.level = Some(level);
                } else {
                    let index: usize = other
                        .strip_prefix("mute-")
                        .and_then(|i| i.parse().ok())
                        .filter(|i| *i < MUTES.len())
                        .ok_or_else(|| AppError::Invalid("choice: not one of the menu's".into()))?;
                    setting.muted_until = Some(match MUTES[index] {
                        Some(seconds) => Utc::now() + Duration::seconds(seconds),
                        None => mute_forever(),
                    });
                }
            }
        }
        services
            .notify
            .set_conversation(auth.user_id, conversation_id, setting)
            .await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, &format!("/c/{conversation_id}"), "notify")
}

/// The menu in a conversation's header (members only).
#[component]
pub(super) fn NotifyMenu(conversation_id: Uuid) -> impl IntoView {
    let texts = use_texts();
    let t = texts.notify();
    let set = ServerAction::<SetConversationNotify>::new();
    let current = Resource::new(
        move || set.version().get(),
        move |_| load_conversation_notify(conversation_id),
    );
    // The sidebar shows the mute too.
    let refresh = use_context::<RefreshList>();
    Effect::new(move |_| {
        if set.version().get() > 0 {
            if let Some(refresh) = refresh {
                refresh.0.update(|n| *n += 1);
            }
        }
    });
    let clock = crate::time::use_clock();
    let choice = move |value: String, label: String, pressed: bool| {
        view! {
            <ActionForm action=set attr:class="menu-form">
                <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                <input type="hidden" name="choice" value=value/>
                <button class="menu-item" type="submit" aria-pressed=pressed.to_string()>{label}</button>
            </ActionForm>
        }
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let setting = current.await.ok()?;
                let now = Utc::now();
                let muted = setting.muted(now);
                let state = match setting.muted_until {
                    Some(until) if muted && until >= mute_forever() => t.muted.to_owned(),
                    Some(until) if muted => t.muted_until.replace(
                        "{time}",
                        &crate::time::seen_label(clock.local(until), clock.today(), texts.locale),
                    ),
                    _ => t.level(setting.level_or(NotifyLevel::default())).to_owned(),
                };
                Some(view! {
                    <details class="notify-menu" data-muted=muted.to_string()>
                        <summary title=t.menu>
                            <span aria-hidden="true">{if muted { "🔕" } else { "🔔" }}</span>
                            <span class="visually-hidden">{t.menu}</span>
                            <span class="notify-state">{state}</span>
                        </summary>
                        <div class="menu-panel" role="group" aria-label=t.menu>
                            {choice("default".into(), t.default_level.replace("{level}", t.level(NotifyLevel::default())), setting.level.is_none())}
                            {[NotifyLevel::All, NotifyLevel::Mentions, NotifyLevel::Nothing].into_iter().map(|level| {
                                choice(level.as_str().into(), t.level(level).into(), setting.level == Some(level))
                            }).collect_view()}
                            <hr/>
                            {if muted {
                                choice("unmute".into(), t.unmute.into(), false).into_any()
                            } else {
                                t.mute_for.iter().enumerate().map(|(i, label)| {
                                    choice(format!("mute-{i}"), (*label).into(), false)
                                }).collect_view().into_any()
                            }}
                        </div>
                    </details>
                })
            })}
        </Suspense>
    }
}
