//! Reactions in the conversation view: each emoji on a message with how
//! many reacted (who, on hover and for screen readers), pressed when the
//! reader is among them — a plain form, so it works without JavaScript —
//! and, once hydrated, a picker with frequent emoji and a search by name.

use domain::chat::MAX_REACTION_BYTES;
use domain::{ChatMessage, Reaction};
use leptos::form::ActionForm;
use leptos::prelude::*;
use uuid::Uuid;

use super::changes::apply;
use crate::i18n::use_texts;
use crate::AppError;

/// Emoji the picker offers before any search.
const FREQUENT: [&str; 8] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];
/// Names shown in a reaction's tooltip before "and N more".
const NAMES_SHOWN: usize = 10;
/// Emoji a search shows at most.
#[cfg(feature = "ssr")]
const FOUND: usize = 40;

/// Adds (`on`) or takes back the reader's reaction.
#[server(prefix = "/rpc", endpoint = "chat/react")]
pub async fn react_message(
    conversation_id: Uuid,
    message_id: Uuid,
    emoji: String,
    on: bool,
) -> Result<Option<ChatMessage>, AppError> {
    let result = async {
        let (services, auth) = crate::pages::settings::signed_in().await?;
        Ok::<_, AppError>(
            services
                .chat
                .react(auth.user_id, conversation_id, message_id, &emoji, on)
                .await?,
        )
    }
    .await;
    super::changes::finish(result, conversation_id, REACT_FORM)
}

/// Emoji whose name has every word of `query` (the picker's search):
/// (emoji, English name).
#[server(prefix = "/rpc", endpoint = "chat/emoji")]
pub async fn search_emoji(query: String) -> Result<Vec<(String, String)>, AppError> {
    crate::pages::settings::signed_in().await?;
    // Bounded before it is read: a name is a few words.
    let query = domain::text::prefix_within(&query, MAX_REACTION_BYTES);
    Ok(services::conversations::find_emoji(query, FOUND)
        .into_iter()
        .map(|(emoji, name)| (emoji.to_owned(), name.to_owned()))
        .collect())
}

/// The form name a plain post is answered for.
const REACT_FORM: &str = "react";

/// The page's reaction action and picker.
#[derive(Clone, Copy)]
pub(super) struct Reactions {
    react: ServerAction<ReactMessage>,
    /// Its answer, taken once (a view may read it after the action is gone).
    answer: MappedSignal<Option<Result<Option<ChatMessage>, AppError>>>,
    /// The message whose picker is open.
    picking: RwSignal<Option<Uuid>>,
    /// Who reacted, shown under a message (touch screens have no tooltip).
    showing: RwSignal<Option<(Uuid, String)>>,
    conversation_id: Uuid,
    me: Uuid,
    /// Only members react.
    member: bool,
}

impl Reactions {
    /// The reactions of a conversation's page; answers go into `messages`.
    pub(super) fn new(
        conversation_id: Uuid,
        me: Uuid,
        member: bool,
        messages: RwSignal<Vec<ChatMessage>>,
    ) -> Self {
        let react = ServerAction::<ReactMessage>::new();
        Effect::new(move |_| {
            if let Some(Ok(Some(message))) = react.value().get() {
                let _ = apply(messages, message);
            }
        });
        Self {
            react,
            answer: react.value(),
            picking: RwSignal::new(None),
            showing: RwSignal::new(None),
            conversation_id,
            me,
            member,
        }
    }

    /// Why the last reaction was refused.
    pub(super) fn error(self) -> Option<String> {
        let t = use_texts();
        match self.answer.try_get().flatten() {
            Some(Err(err)) => Some(t.error(&err)),
            _ => crate::flash::use_flash().text_for(REACT_FORM),
        }
    }

    fn send(self, message_id: Uuid, emoji: String, on: bool) {
        self.picking.set(None);
        self.react.dispatch(ReactMessage {
            conversation_id: self.conversation_id,
            message_id,
            emoji,
            on,
        });
    }
}

/// A message's reactions, and its picker while open.
#[component]
pub(super) fn MessageReactions(message: ChatMessage, reactions: Reactions) -> impl IntoView {
    if message.is_deleted() || (message.reactions.is_empty() && !reactions.member) {
        return ().into_any();
    }
    let id = message.id;
    let none = message.reactions.is_empty();
    let chips = message
        .reactions
        .into_iter()
        .map(|r| view! { <ReactionChip reaction=r message_id=id reactions/> })
        .collect_view();
    let picker_open = move || reactions.picking.get() == Some(id);
    view! {
        // Takes no room while there is nothing to show.
        <div class="reactions" class:idle=move || none && !picker_open()>
            {chips}
            <Show when=picker_open>
                <Picker message_id=id reactions/>
            </Show>
            {move || reactions.showing.get().filter(|(m, _)| *m == id).map(|(_, who)| view! {
                <p class="reactors" role="status" on:click=move |_| reactions.showing.set(None)>{who}</p>
            })}
        </div>
    }
    .into_any()
}

/// The action that opens a message's picker (members, once hydrated: the
/// picker needs JavaScript).
#[component]
pub(super) fn AddReaction(message_id: Uuid, reactions: Reactions) -> impl IntoView {
    let a = use_texts().actions();
    let open = move || reactions.picking.get() == Some(message_id);
    reactions.member.then(|| {
        view! {
            <button
                class="link-button add-reaction"
                type="button"
                title=a.add_reaction
                aria-label=a.add_reaction
                aria-expanded=move || open().to_string()
                on:click=move |_| reactions.picking.update(|p| {
                    *p = if *p == Some(message_id) { None } else { Some(message_id) };
                })
            >
                <span aria-hidden="true">"☺+"</span>
            </button>
        }
    })
}

/// One emoji with its count: pressing it adds or takes back the reader's.
#[component]
fn ReactionChip(reaction: Reaction, message_id: Uuid, reactions: Reactions) -> impl IntoView {
    let mine = reaction.users.iter().any(|u| u.id == reactions.me);
    let count = reaction.users.len();
    let label = who_reacted(&reaction);
    let emoji = reaction.emoji;
    // Who reacted, where nothing hovers: a long press (or a right click).
    let show = {
        let label = label.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            reactions.showing.set(Some((message_id, label.clone())));
        }
    };
    if !reactions.member {
        return view! {
            <span class="reaction" title=label.clone() aria-label=label on:contextmenu=show>
                <span class="emoji">{emoji}</span>
                <span class="count">{count}</span>
            </span>
        }
        .into_any();
    }
    view! {
        <ActionForm action=reactions.react attr:class="reaction-form">
            <input type="hidden" name="conversation_id" value=reactions.conversation_id.to_string()/>
            <input type="hidden" name="message_id" value=message_id.to_string()/>
            <input type="hidden" name="emoji" value=emoji.clone()/>
            <input type="hidden" name="on" value=(!mine).to_string()/>
            <button
                class="reaction"
                class:mine=mine
                type="submit"
                title=label.clone()
                aria-label=label
                aria-pressed=mine.to_string()
                on:contextmenu=show
            >
                <span class="emoji">{emoji}</span>
                <span class="count">{count}</span>
            </button>
        </ActionForm>
    }
    .into_any()
}

/// "Ann, Ben and 3 more reacted with 👍".
fn who_reacted(reaction: &Reaction) -> String {
    let t = use_texts();
    let a = t.actions();
    let count = reaction.users.len();
    let names: Vec<&str> = reaction
        .users
        .iter()
        .take(NAMES_SHOWN)
        .map(|u| u.name.as_str())
        .collect();
    let mut who = names.join(t.chat().name_separator);
    if count > NAMES_SHOWN {
        who.push_str(
            &a.and_more
                .replace("{n}", &(count - NAMES_SHOWN).to_string()),
        );
    }
    // The emoji first: a name may contain "{emoji}".
    a.reacted_with
        .replace("{emoji}", &reaction.emoji)
        .replace("{names}", &who)
}

/// The emoji picker of one message: frequent emoji, and a search.
#[component]
fn Picker(message_id: Uuid, reactions: Reactions) -> impl IntoView {
    let a = use_texts().actions();
    let query = RwSignal::new(String::new());
    let found = Resource::new(
        move || query.get(),
        |query| async move {
            if query.trim().is_empty() {
                return Ok(Vec::new());
            }
            search_emoji(query).await
        },
    );
    let choose = move |emoji: String| reactions.send(message_id, emoji, true);
    let button = move |emoji: String, name: Option<String>| {
        let label = name.unwrap_or_else(|| emoji.clone());
        view! {
            <button
                type="button"
                class="emoji-choice"
                title=label.clone()
                aria-label=label
                on:click={
                    let emoji = emoji.clone();
                    move |_| choose(emoji.clone())
                }
            >{emoji.clone()}</button>
        }
    };
    let field = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(field) = field.get() {
            let _ = field.focus();
        }
    });
    view! {
        <div
            class="picker"
            role="dialog"
            aria-label=a.picker_label
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    reactions.picking.set(None);
                }
            }
        >
            <input
                node_ref=field
                type="search"
                class="search"
                maxlength=MAX_REACTION_BYTES.to_string()
                placeholder=a.search_emoji
                aria-label=a.search_emoji
                on:input:target=move |ev| query.set(ev.target().value())
            />
            <div class="emoji-grid">
                <Show
                    when=move || query.with(|q| q.trim().is_empty())
                    fallback=move || view! {
                        <Transition>
                            {move || found.get().map(|result| {
                                let list = result.unwrap_or_default();
                                if list.is_empty() {
                                    view! { <p class="muted">{a.no_emoji}</p> }.into_any()
                                } else {
                                    list.into_iter()
                                        .map(|(emoji, name)| button(emoji, Some(name)))
                                        .collect_view()
                                        .into_any()
                                }
                            })}
                        </Transition>
                    }
                >
                    {FREQUENT.iter().map(|e| button((*e).to_owned(), None)).collect_view()}
                </Show>
            </div>
        </div>
    }
}
