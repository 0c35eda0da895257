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

/// Applies one menu choice: `default`, a level (`all`, `mentions`,
/// `nothing`), `mute-<i>` (the i-th of the mute choices) or `unmute`.
#[server(prefix = "/rpc", endpoint = "conversation/set_notify")]
pub async fn set_conversation_notify(
    conversation_id: Uuid,
    choice: String,
) -> Result<ConversationNotify, AppError> {
    let result: Result<ConversationNotify, AppError> = async {
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
        Ok(services
            .notify
            .set_conversation(auth.user_id, conversation_id, setting)
            .await?)
    }
    .await;
    let kept = result.as_ref().ok().copied();
    crate::auth::ssr::finish_plain_form(
        result.map(drop),
        &format!("/c/{conversation_id}"),
        "notify",
    )?;
    // (A plain form post was redirected: what is returned is not read.)
    Ok(kept.unwrap_or_default())
}

/// The menu in a conversation's header (members only), showing `setting`
/// as the page was loaded with it, then as changed here.
#[component]
pub(super) fn NotifyMenu(conversation_id: Uuid, setting: ConversationNotify) -> impl IntoView {
    let texts = use_texts();
    let t = texts.notify();
    let set = ServerAction::<SetConversationNotify>::new();
    let current = RwSignal::new(setting);
    // The sidebar shows the mute too.
    let refresh = use_context::<RefreshList>();
    Effect::new(move |_| {
        if let Some(Ok(kept)) = set.value().get() {
            current.set(kept);
            if let Some(refresh) = refresh {
                refresh.0.update(|n| *n += 1);
            }
        }
    });
    let clock = crate::time::use_clock();
    // The user's own default, once this tab has read it.
    let notifier = use_context::<crate::components::notifier::Notifier>();
    let default_level = move || {
        notifier
            .and_then(|n| n.prefs.get())
            .map(|p| p.level)
            .unwrap_or_default()
    };
    let choice = move |value: String, label: String, pressed: bool| {
        view! {
            <ActionForm action=set attr:class="menu-form">
                <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                <input type="hidden" name="choice" value=value/>
                <button class="menu-item" type="submit" aria-pressed=pressed.to_string()>{label}</button>
            </ActionForm>
        }
    };
    move || {
        let setting = current.get();
        let now = Utc::now();
        let muted = setting.muted(now);
        let state = match setting.muted_until {
            Some(until) if muted && until >= mute_forever() => t.muted.to_owned(),
            Some(until) if muted => t.muted_until.replace(
                "{time}",
                &crate::time::seen_label(clock.local(until), clock.today(), texts.locale),
            ),
            _ => t.level(setting.level_or(default_level())).to_owned(),
        };
        view! {
            <details class="notify-menu" data-muted=muted.to_string()>
                <summary title=t.menu>
                    <span aria-hidden="true">{if muted { "🔕" } else { "🔔" }}</span>
                    <span class="visually-hidden">{t.menu}</span>
                    <span class="notify-state">{state}</span>
                </summary>
                <div class="menu-panel" role="group" aria-label=t.menu>
                    {choice("default".into(), t.default_level.replace("{level}", t.level(default_level())), setting.level.is_none())}
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
        }
    }
}
