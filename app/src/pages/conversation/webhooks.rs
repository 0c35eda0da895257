//! `/c/{id}/webhooks`: a group's or room's incoming webhooks, for its owners
//! and admins — create one (its address shown once), give it a new
//! address, delete it.

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
        .list(auth.user_id, conversation_id)
        .await?)
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
) -> Result<Option<CreatedWebhook>, AppError> {
    if posted_without_script(conversation_id) {
        return Ok(None);
    }
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let name = domain::integrations::IntegrationName::parse(&name)
        .map_err(services::ServiceError::InvalidName)?;
    let new = domain::integrations::NewWebhook { name };
    let made = services
        .webhooks
        .create(auth.user_id, conversation_id, new)
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
    Ok(Some(services.webhooks.rotate(auth.user_id, id).await?))
}

/// Deletes a webhook.
#[server(prefix = "/rpc", endpoint = "webhooks/delete")]
pub async fn delete_webhook(conversation_id: Uuid, id: Uuid) -> Result<(), AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        services.webhooks.delete(auth.user_id, id).await?;
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
                <button class="button" type="submit">{t.create_hook}</button>
            </ActionForm>
            {move || shown.get().map(|result| match result {
                Ok(made) => view! {
                    <crate::components::secret::ShownOnce id="new-webhook">
                        {move || origin.get()}{made.path.clone()}
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
                                    view! {
                                    <li class="token webhook" data-name=label>
                                        <strong>{hook.name}</strong>
                                        <ActionForm action=rotate attr:class="inline-form">
                                            <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                                            <input type="hidden" name="id" value=hook.id.to_string()/>
                                            <button class="link-button" type="submit">{t.rotate}</button>
                                        </ActionForm>
                                        <ActionForm action=remove attr:class="inline-form">
                                            <input type="hidden" name="conversation_id" value=conversation_id.to_string()/>
                                            <input type="hidden" name="id" value=hook.id.to_string()/>
                                            <button class="link-button danger" type="submit">{t.delete}</button>
                                        </ActionForm>
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
