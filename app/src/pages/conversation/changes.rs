//! Editing and deleting messages in the conversation view: the server
//! functions (also plain forms: `?edit=<id>` opens a message for editing,
//! the delete confirmation is a `<details>`), and a message's text with its
//! actions. A change shows at once from the server function's answer; the
//! other members' views (and this user's other devices) get it live.

use domain::ChatMessage;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use uuid::Uuid;

use crate::components::message_text::MessageText;
use crate::i18n::use_texts;
use crate::AppError;

/// Edits one of the user's messages (the edit form).
#[server(prefix = "/rpc", endpoint = "chat/edit")]
pub async fn edit_message(
    conversation_id: Uuid,
    message_id: Uuid,
    body: String,
) -> Result<Option<ChatMessage>, AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        let chat = &services.chat;
        Ok::<_, AppError>(
            chat.edit(auth.user_id, conversation_id, message_id, &body)
                .await?,
        )
    }
    .await;
    finish(result, conversation_id, EDIT_FORM)
}

/// Deletes a message (the delete confirmation).
#[server(prefix = "/rpc", endpoint = "chat/delete")]
pub async fn delete_message(
    conversation_id: Uuid,
    message_id: Uuid,
) -> Result<Option<ChatMessage>, AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        Ok::<_, AppError>(
            services
                .chat
                .delete(auth.actor(), conversation_id, message_id)
                .await?,
        )
    }
    .await;
    finish(result, conversation_id, DELETE_FORM)
}

/// The form names a plain post is answered for.
const EDIT_FORM: &str = "edit";
const DELETE_FORM: &str = "delete";

/// The message for a hydrated form; a plain form goes back to the
/// conversation (with the error as a flash).
#[cfg(feature = "ssr")]
pub(super) fn finish(
    result: Result<ChatMessage, AppError>,
    conversation_id: Uuid,
    form: &str,
) -> Result<Option<ChatMessage>, AppError> {
    let page = format!("/c/{conversation_id}");
    match result {
        Ok(message) => {
            crate::auth::ssr::finish_plain_form(Ok(()), &page, form)?;
            Ok(Some(message))
        }
        Err(err) => crate::auth::ssr::finish_plain_form(Err(err), &page, form).map(|()| None),
    }
}

/// Puts a message's newer state in the list (an older one, arriving
/// late, is ignored). A change of a message newer than the list — its
/// `message` event still on the way: the two streams are ordered apart —
/// is returned, to be applied when the message comes.
pub(super) fn apply(
    messages: RwSignal<Vec<ChatMessage>>,
    changed: ChatMessage,
) -> Option<ChatMessage> {
    let (newer, ahead) = messages.with_untracked(|list| {
        (
            list.iter()
                .any(|m| m.id == changed.id && changed.change > m.change),
            list.last().is_none_or(|m| changed.seq > m.seq),
        )
    });
    if newer {
        messages.update(|list| {
            if let Some(m) = list.iter_mut().find(|m| m.id == changed.id) {
                *m = changed;
            }
        });
        None
    } else {
        ahead.then_some(changed)
    }
}

/// What an edit or deletion answered, last.
type Answer = MappedSignal<Option<Result<Option<ChatMessage>, AppError>>>;

/// The page's edit and delete actions, and who may use them.
#[derive(Clone, Copy)]
pub(super) struct Changes {
    edit: ServerAction<EditMessage>,
    delete: ServerAction<DeleteMessage>,
    /// Their answers, taken once: a view may read them a moment after the
    /// actions are gone (a sign-in that ended takes the app elsewhere).
    answers: [Answer; 2],
    /// The message open for editing (`?edit=<id>`).
    editing: Memo<Option<Uuid>>,
    conversation_id: Uuid,
    me: Uuid,
    moderator: bool,
    /// Members reply.
    member: bool,
    max_chars: usize,
}

impl Changes {
    /// The actions of a conversation's page; their answers go into `messages`.
    pub(super) fn new(
        conversation_id: Uuid,
        me: Uuid,
        moderator: bool,
        member: bool,
        max_chars: usize,
        messages: RwSignal<Vec<ChatMessage>>,
    ) -> Self {
        let query = use_query_map();
        let editing = Memo::new(move |_| query.read().get("edit").and_then(|s| s.parse().ok()));
        let edit = ServerAction::<EditMessage>::new();
        let delete = ServerAction::<DeleteMessage>::new();
        let navigate = use_navigate();
        Effect::new(move |_| {
            if let Some(Ok(Some(message))) = edit.value().get() {
                let _ = apply(messages, message);
                navigate(&format!("/c/{conversation_id}"), Default::default());
            }
        });
        Effect::new(move |_| {
            if let Some(Ok(Some(message))) = delete.value().get() {
                let _ = apply(messages, message);
            }
        });
        Self {
            edit,
            delete,
            answers: [edit.value(), delete.value()],
            editing,
            conversation_id,
            me,
            moderator,
            member,
            max_chars,
        }
    }

    /// Why the last edit or deletion was refused: the hydrated action's
    /// error, or a plain form's flash.
    pub(super) fn error(self) -> Option<String> {
        let t = use_texts();
        let refused = |answer: Answer| match answer.try_get().flatten() {
            Some(Err(err)) => Some(t.error(&err)),
            _ => None,
        };
        let flash = crate::flash::use_flash();
        refused(self.answers[0])
            .or_else(|| refused(self.answers[1]))
            .or_else(|| flash.text_for(EDIT_FORM))
            .or_else(|| flash.text_for(DELETE_FORM))
    }
}

/// A message's text (or the note that it was deleted), its "edited" mark,
/// and the actions the reader may take on it.
#[component]
pub(super) fn MessageContent(
    message: ChatMessage,
    changes: Changes,
    reactions: super::reactions::Reactions,
) -> impl IntoView {
    let c = use_texts().chat();
    if message.is_deleted() {
        return view! { <p class="body deleted">{c.message_deleted}</p> }.into_any();
    }
    let id = message.id;
    let own = message.sender_id == changes.me;
    let may_delete = own || changes.moderator;
    let page = format!("/c/{}", changes.conversation_id);
    let conversation_id = changes.conversation_id.to_string();
    let editing = move || own && changes.editing.get() == Some(id);
    // A page opened at a message stays there while replying.
    let reply_href = match use_query_map().with_untracked(|q| q.get("around")) {
        Some(around) => format!("{page}?around={around}&reply={id}"),
        None => format!("{page}?reply={id}"),
    };
    let body = message.body.clone();
    let reader = use_context::<super::ReaderName>().map(|r| r.0);
    let clock = crate::time::use_clock();
    let locale = use_texts().locale;
    let edited_at = message.edited_at;
    let edited = move || {
        edited_at.map(|at| {
            view! {
                " "
                <span class="edited" title=move || crate::time::full_label(clock.local(at), locale)>
                    {c.edited}
                </span>
            }
        })
    };
    let edit_form = {
        let (page, conversation_id, body) = (page.clone(), conversation_id.clone(), body.clone());
        move || {
            let (page, conversation_id, body) =
                (page.clone(), conversation_id.clone(), body.clone());
            let cancel = page.clone();
            let navigate = use_navigate();
            // Opened in the app (not by loading `?edit=`): the caret goes
            // to the text at once.
            let field = NodeRef::<leptos::html::Textarea>::new();
            Effect::new(move |_| {
                if let Some(field) = field.get() {
                    let _ = field.focus();
                }
            });
            view! {
                <ActionForm action=changes.edit attr:class="edit-form">
                    <input type="hidden" name="conversation_id" value=conversation_id/>
                    <input type="hidden" name="message_id" value=id.to_string()/>
                    <textarea
                        node_ref=field
                        name="body"
                        rows="3"
                        required
                        autofocus
                        aria-label=c.edit_label
                        maxlength=changes.max_chars.to_string()
                        on:keydown=move |ev| {
                            if ev.key() == "Escape" {
                                ev.prevent_default();
                                navigate(&cancel, Default::default());
                            }
                        }
                    >{body}</textarea>
                    <div class="edit-buttons">
                        <button class="button small" type="submit">{c.save}</button>
                        <A href=page attr:class="link-button">{c.cancel}</A>
                    </div>
                </ActionForm>
            }
        }
    };
    view! {
        <Show
            when=editing
            fallback=move || view! { <div class="body"><MessageText text=body.clone() me=reader.clone()/>{edited()}</div> }
        >
            {edit_form.clone()}
        </Show>
        <div class="message-actions" hidden=editing>
            <super::reactions::AddReaction message_id=id reactions/>
            {changes.member.then(|| view! {
                <A href=reply_href.clone() attr:class="link-button">{use_texts().actions().reply}</A>
            })}
            {own.then(|| view! {
                <A href=format!("{page}?edit={id}") attr:class="link-button">{c.edit}</A>
            })}
            {may_delete.then(|| view! {
                <details class="confirm">
                    <summary class="link-button danger">{c.delete}</summary>
                    <p>{c.delete_confirm}</p>
                    <ActionForm action=changes.delete attr:class="inline-form">
                        <input type="hidden" name="conversation_id" value=conversation_id.clone()/>
                        <input type="hidden" name="message_id" value=id.to_string()/>
                        <button class="button small danger" type="submit">{c.delete}</button>
                    </ActionForm>
                </details>
            })}
        </div>
    }
    .into_any()
}
