//! `/c/{id}/webhooks`: a group's or room's webhooks, for its owners and
//! admins — create one (an incoming one's address, or an outgoing one's
//! signing secret, shown once), give it a new one, delete it, read an
//! outgoing one's deliveries.

use domain::integrations::outgoing::{DeliveryStatus, HookDelivery};
use domain::integrations::{CreatedWebhook, WebhookInfo};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::i18n::use_texts;
use crate::pages::settings::{outcome, RequireSignIn};
use crate::AppError;

/// The conversation's webhooks.
#[server(prefix = "/rpc", endpoint = "webhooks/list")]
pub async fn load_webhooks(conversation_id: Uuid) -> Result<Vec<WebhookInfo>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    Ok(services
        .webhooks
        .list(auth.actor(), conversation_id)
        .await?)
}

/// An outgoing webhook's deliveries.
#[server(prefix = "/rpc", endpoint = "webhooks/deliveries")]
pub async fn load_deliveries(id: Uuid) -> Result<Vec<HookDelivery>, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    Ok(services.webhooks.deliveries(auth.actor(), id).await?)
}

#[cfg(feature = "ssr")]
fn page_of(conversation_id: Uuid) -> String {
    format!("/c/{conversation_id}/webhooks")
}

/// Whether this is a form posted without JavaScript, sent back to the page
/// with why nothing was done: a new address is only ever shown by a script.
#[cfg(feature = "ssr")]
fn posted_without_script(conversation_id: Uuid) -> bool {
    let text = crate::i18n::request_locale()
        .texts()
        .integrations()
        .needs_script;
    crate::auth::ssr::refuse_plain_form(&page_of(conversation_id), "webhooks", text).is_some()
}

/// Creates a webhook; its address is in the answer only (a form posted
/// without JavaScript, which could not show it, creates nothing).
#[server(prefix = "/rpc", endpoint = "webhooks/create")]
pub async fn create_webhook(
    conversation_id: Uuid,
    name: String,
    #[server(default)] url: String,
    #[server(default)] trigger_word: String,
) -> Result<Option<CreatedWebhook>, AppError> {
    use domain::integrations::outgoing::{HookUrl, TriggerWord};
    use services::ServiceError;
    if posted_without_script(conversation_id) {
        return Ok(None);
    }
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let name =
        domain::integrations::IntegrationName::parse(&name).map_err(ServiceError::InvalidName)?;
    // Blank fields: none.
    fn optional<T>(
        raw: &str,
        parse: fn(&str) -> Result<T, &'static str>,
    ) -> Result<Option<T>, ServiceError> {
        (!raw.trim().is_empty())
            .then(|| parse(raw).map_err(|m| ServiceError::Invalid(m.to_owned())))
            .transpose()
    }
    let url = optional(&url, HookUrl::parse)?;
    let trigger_word = optional(&trigger_word, TriggerWord::parse)?;
    let new = domain::integrations::NewWebhook {
        name,
        url,
        trigger_word,
    };
    let made = services
        .webhooks
        .create(auth.actor(), conversation_id, new)
        .await?;
    Ok(Some(made))
}

/// Gives a webhook a new address (shown once, so JavaScript is needed).
#[server(prefix = "/rpc", endpoint = "webhooks/rotate")]
pub async fn rotate_webhook(
    conversation_id: Uuid,
    id: Uuid,
) -> Result<Option<CreatedWebhook>, AppError> {
    if posted_without_script(conversation_id) {
        return Ok(None);
    }
    let (services, auth) = crate::pages::settings::signed_in().await?;
    Ok(Some(services.webhooks.rotate(auth.actor(), id).await?))
}

/// Deletes a webhook.
#[server(prefix = "/rpc", endpoint = "webhooks/delete")]
pub async fn delete_webhook(conversation_id: Uuid, id: Uuid) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        services.webhooks.delete(auth.actor(), id).await?;
        Ok(())
    }
    .await;
    crate::auth::ssr::finish_plain_form(result, &page_of(conversation_id), "webhooks")
}

/// `/c/{id}/webhooks`.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let t = use_texts().integrations();
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    view! {
        <Title text=format!("{} · ChatSphere", t.hooks_heading)/>
        <RequireSignIn>
            {move || match id() {
                Some(conversation_id) => view! { <Webhooks conversation_id/> }.into_any(),
                None => view! { <crate::pages::not_found::ErrorPanel error=AppError::NotFound("conversation".into())/> }.into_any(),
            }}
        </RequireSignIn>
    }
}

#[component]
fn Webhooks(conversation_id: Uuid) -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let rotate = ServerAction::<RotateWebhook>::new();
    let remove = ServerAction::<DeleteWebhook>::new();
    let hooks = Resource::new(
        move || {
            (
                create.version().get(),
                rotate.version().get(),
                remove.version().get(),
            )
        },
        move |_| load_webhooks(conversation_id),
    );
    let texts = use_texts();
    let t = texts.integrations();
    let query = use_query_map();
    let deleted = move || outcome(remove.value().get(), &query.read(), "webhooks", t.deleted);
    // The address to show: the answer of whichever of creating and
    // rotating answered last.
    let shown = RwSignal::new(None::<Result<CreatedWebhook, String>>);
    for action in [create.value(), rotate.value()] {
        Effect::new(move |_| {
            let answer = match action.get() {
                Some(Ok(Some(hook))) => Some(Ok(hook)),
                Some(Err(err)) => Some(Err(texts.error(&err))),
                _ => None,
            };
            if answer.is_some() {
                shown.set(answer);
            }
        });
    }
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Ok(here) = window().location().origin() {
            origin.set(here);
        }
    });
    view! {
        <section class="panel auth-panel integrations">
            <h1>{t.hooks_heading}</h1>
            <p><a href=format!("/c/{conversation_id}")>{t.back}</a></p>
            <p class="muted">{t.hooks_intro}</p>
            <ActionForm action=create attr:class="form" attr:id="webhook-form">
                <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                <label>{t.name}<input name="name" required maxlength="64" autocomplete="off"/></label>
                <label>{t.hook_url}<input name="url" type="url" maxlength="2048" autocomplete="off" placeholder=t.hook_url_hint/></label>
                <label>{t.trigger_word}<input name="trigger_word" maxlength="32" autocomplete="off"/></label>
                <button class="button" type="submit">{t.create_hook}</button>
            </ActionForm>
            {move || shown.get().map(|result| match result {
                Ok(CreatedWebhook { path: Some(path), .. }) => view! {
                    <crate::components::secret::ShownOnce id="new-webhook">
                        {move || origin.get()}{path.clone()}
                    </crate::components::secret::ShownOnce>
                }.into_any(),
                Ok(CreatedWebhook { signing_secret, .. }) => view! {
                    <p>{t.signing_secret}</p>
                    <crate::components::secret::ShownOnce id="new-signing-secret">
                        {signing_secret.clone().unwrap_or_default()}
                    </crate::components::secret::ShownOnce>
                }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
            {move || crate::flash::use_flash().text_for("webhooks").map(|text| view! {
                <p class="error" role="alert">{text}</p>
            })}
            {move || deleted().map(|(ok, text)| view! {
                <p class=if ok { "notice" } else { "error" } role="status">{text}</p>
            })}
            <Suspense fallback=move || view! { <p class="muted">{texts.loading}</p> }>
                {move || Suspend::new(async move {
                    match hooks.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t.no_hooks}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="token-list">
                                {list.into_iter().map(|hook| {
                                    let label = hook.name.clone();
                                    let outgoing = hook.url.is_some();
                                    let rotate_text = if outgoing { t.rotate_secret } else { t.rotate };
                                    view! {
                                    <li class="token webhook" data-name=label>
                                        <strong>{hook.name}</strong>
                                        {hook.url.clone().map(|url| view! {
                                            <span class="muted hook-url">{url}</span>
                                        })}
                                        {hook.trigger_word.clone().map(|word| view! {
                                            <code class="trigger">{word}</code>
                                        })}
                                        <ActionForm action=rotate attr:class="inline-form">
                                            <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                                            <input type="hidden" name="id" value=hook.id.to_string()/>
                                            <button class="link-button" type="submit">
                                                {rotate_text}
                                            </button>
                                        </ActionForm>
                                        <ActionForm action=remove attr:class="inline-form">
                                            <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                                            <input type="hidden" name="id" value=hook.id.to_string()/>
                                            <button class="link-button danger" type="submit">{t.delete}</button>
                                        </ActionForm>
                                        {outgoing.then(|| view! { <DeliveryLog id=hook.id/> })}
                                    </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{texts.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// An outgoing webhook's last deliveries, in a disclosure.
#[component]
fn DeliveryLog(id: Uuid) -> impl IntoView {
    let texts = use_texts();
    let t = texts.integrations();
    let log = Resource::new(|| (), move |()| load_deliveries(id));
    view! {
        <details class="deliveries">
            <summary>{t.deliveries}</summary>
            <Suspense fallback=move || view! { <p class="muted">{texts.loading}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">{t.no_deliveries}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="delivery-list">
                                {list.into_iter().map(|d| {
                                    let status = match d.status {
                                        DeliveryStatus::Pending => 0,
                                        DeliveryStatus::Delivered => 1,
                                        DeliveryStatus::Failed => 2,
                                    };
                                    view! {
                                        <li class=format!("delivery {}", d.status.as_str())>
                                            <time datetime=d.created_at.to_rfc3339()>{d.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</time>
                                            " "<strong>{t.delivery_status[status]}</strong>
                                            {d.response_status.map(|code| format!(" · HTTP {code}"))}
                                            " · "{t.attempts.replace("{n}", &d.attempts.to_string())}
                                            {d.error.map(|e| view! { " · "<span class="muted">{e}</span> })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{texts.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </details>
    }
}
