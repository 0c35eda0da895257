//! `/search`: the messages, people and conversations one query finds. A
//! plain GET form and links, so it works without JavaScript, then hydrates
//! (a new search is then a client-side navigation).

use domain::search::{
    ConversationHit, MessageHit, SearchParams, SearchResults, SearchSort, SnippetPiece,
    MAX_QUERY_CHARS,
};
use domain::{ConversationKind, UserSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::i18n::use_texts;
use crate::pages::settings::RequireSignIn;
use crate::AppError;

/// The parameters the results page reads from its address.
const PARAMS: [&str; 9] = [
    "q",
    "conversation",
    "from",
    "after",
    "before",
    "has_link",
    "public",
    "sort",
    "cursor",
];

/// A page of results for `params`.
#[server(prefix = "/rpc", endpoint = "chat/search")]
pub async fn search(params: SearchParams) -> Result<SearchResults, AppError> {
    let (services, auth) = crate::pages::settings::signed_in().await?;
    let request = services::search::SearchRequest::from_params(&params)
        .map_err(|err| AppError::Invalid(format!("q: {err}")))?;
    Ok(services.search.search(auth.user_id, &request).await?)
}

/// `/search`. The search runs once per address, here (outside the sign-in
/// guard, whose content may be built more than once while it resolves).
#[component]
pub fn SearchPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|map| {
            let pairs: Vec<(&str, String)> = PARAMS
                .iter()
                .filter_map(|key| map.get(key).map(|value| (*key, value)))
                .collect();
            SearchParams::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
        })
    });
    let results = Resource::new(
        move || params.get(),
        |params| async move {
            match params.query() {
                Ok(_) => Some(search(params).await),
                Err(_) => None,
            }
        },
    );
    view! {
        <Title text=format!("{} · ChatSphere", t.search().search)/>
        <RequireSignIn>
            <Search params results/>
        </RequireSignIn>
    }
}

/// What [`SearchPage`] fetched for its address.
type Results = Resource<Option<Result<SearchResults, AppError>>>;

#[component]
fn Search(params: Memo<SearchParams>, results: Results) -> impl IntoView {
    let t = use_texts();
    let s = t.search();
    // Nothing typed yet is not an error: the page shows the form.
    let problem = move || {
        params.with(|p| match p.query() {
            Err(domain::search::QueryError::Empty) if p.q.is_empty() => None,
            Err(err) => Some(s.query_error(&err)),
            Ok(_) => None,
        })
    };
    let p = move || params.get();
    // Open when a filter is set; then left as the reader leaves it.
    let filtered = params.with_untracked(|p| {
        p.from.is_some()
            || p.after.is_some()
            || p.before.is_some()
            || p.has_link
            || p.public
            || p.sort == SearchSort::Relevance
    });
    view! {
        <section class="panel search-page">
            <h1>{s.search}</h1>
            <Form method="get" action="/search" attr:class="search-form search-page-form" attr:role="search">
                <label for="search-q" class="visually-hidden">{s.search}</label>
                <input id="search-q" type="search" name="q" value=move || p().q autocomplete="off"
                    maxlength=MAX_QUERY_CHARS.to_string() placeholder=s.placeholder/>
                <button class="button" type="submit">{s.search}</button>
                {move || p().conversation.map(|id| view! {
                    <input type="hidden" name="conversation" value=id.to_string()/>
                })}
                <details class="search-filters" open=filtered>
                    <summary>{s.filters}</summary>
                    <div class="search-filter-fields">
                        <label>{s.from}
                            <input name="from" value=move || p().from.unwrap_or_default() maxlength="64" autocomplete="off"/>
                        </label>
                        <label>{s.after}
                            <input type="date" name="after" value=move || p().after.map(|d| d.to_string()).unwrap_or_default()/>
                        </label>
                        <label>{s.before}
                            <input type="date" name="before" value=move || p().before.map(|d| d.to_string()).unwrap_or_default()/>
                        </label>
                        <label>{s.sort}
                            <select name="sort">
                                <option value="newest" selected=move || p().sort == SearchSort::Newest>{s.newest}</option>
                                <option value="relevance" selected=move || p().sort == SearchSort::Relevance>{s.relevance}</option>
                            </select>
                        </label>
                        <label class="check">
                            <input type="checkbox" name="has_link" checked=move || p().has_link/>
                            {s.has_link}
                        </label>
                        <label class="check">
                            <input type="checkbox" name="public" checked=move || p().public/>
                            {s.public}
                        </label>
                    </div>
                </details>
                <p class="muted search-tips">{s.tips}</p>
            </Form>
            <p class="error" role="alert" hidden=move || problem().is_none()>{problem}</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match results.await {
                        None => ().into_any(),
                        Some(Ok(found)) => view! { <Results found=found params=params.get_untracked()/> }.into_any(),
                        Some(Err(err)) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// What a search found.
#[component]
fn Results(found: SearchResults, params: SearchParams) -> impl IntoView {
    let s = use_texts().search();
    let next = found.next.map(|cursor| {
        let mut next = params.clone();
        next.cursor = Some(cursor);
        href(&next)
    });
    view! {
        {(!found.people.is_empty()).then(|| view! {
            <h2>{s.people}</h2>
            <ul class="search-names">{found.people.into_iter().map(person).collect_view()}</ul>
        })}
        {(!found.conversations.is_empty()).then(|| view! {
            <h2>{s.conversations}</h2>
            <ul class="search-names">{found.conversations.into_iter().map(conversation).collect_view()}</ul>
        })}
        <h2>{s.messages}</h2>
        {found.messages.is_empty().then(|| view! { <p class="muted">{s.no_messages}</p> })}
        <ol class="search-results">{found.messages.into_iter().map(|hit| view! { <Hit hit=hit/> }).collect_view()}</ol>
        {next.map(|href| view! { <a class="button secondary search-more" href=href>{s.more}</a> })}
    }
}

fn person(user: UserSummary) -> impl IntoView {
    let link = format!(
        "/new?{}",
        serde_urlencoded::to_string([("q", &user.username)]).unwrap_or_default()
    );
    let handle = user.username.clone();
    view! {
        <li data-user=handle>
            <a href=link>
                <span class="person-name">{user.display_name}</span>
                " "<span class="muted">"@"{user.username}</span>
            </a>
        </li>
    }
}

fn conversation(c: ConversationHit) -> impl IntoView {
    let s = use_texts().search();
    view! {
        <li data-conversation=c.id.to_string()>
            <a href=format!("/c/{}", c.id)>{label(c.kind, &c.name)}</a>
            {(!c.joined).then(|| view! { " "<span class="tag">{s.not_joined}</span> })}
            {(!c.topic.is_empty()).then(|| view! { " "<span class="muted">{c.topic}</span> })}
        </li>
    }
}

/// A conversation as the sidebar names it.
fn label(kind: ConversationKind, name: &str) -> String {
    match kind {
        ConversationKind::Room => format!("#{name}"),
        _ => name.to_owned(),
    }
}

/// One message found: where, who, when and what, linking to it in its
/// conversation (opened around it).
#[component]
fn Hit(hit: MessageHit) -> impl IntoView {
    let s = use_texts().search();
    let clock = crate::time::use_clock();
    let at = hit.created_at;
    // In the reader's zone once the browser has told it.
    let when = move || {
        use chrono::Datelike;
        let local = clock.local(at);
        format!(
            "{:04}-{:02}-{:02} {}",
            local.year(),
            local.month(),
            local.day(),
            crate::time::clock_time(local)
        )
    };
    view! {
        <li class="search-hit" data-message=hit.id.to_string()>
            <a class="search-hit-link" href=format!("/c/{}?around={}", hit.conversation_id, hit.seq)>
                <span class="search-hit-meta">
                    <span class="search-hit-where">{label(hit.conversation_kind, &hit.conversation_name)}</span>
                    {(!hit.joined).then(|| view! { <span class="tag">{s.not_joined}</span> })}
                    <span class="search-hit-who">{hit.sender_name}</span>
                    <time datetime=hit.created_at.to_rfc3339()>{when}</time>
                </span>
                <span class="search-hit-text">{hit.snippet.into_iter().map(piece).collect_view()}</span>
            </a>
        </li>
    }
}

/// A stretch of a snippet: text, or a match marked as such.
fn piece(piece: SnippetPiece) -> AnyView {
    if piece.hit {
        view! { <mark>{piece.text}</mark> }.into_any()
    } else {
        piece.text.into_any()
    }
}

/// The results page's address for `params`.
pub fn href(params: &SearchParams) -> String {
    let mut pairs: Vec<(&str, String)> = vec![("q", params.q.clone())];
    if let Some(id) = params.conversation {
        pairs.push(("conversation", id.to_string()));
    }
    if let Some(from) = &params.from {
        pairs.push(("from", from.clone()));
    }
    if let Some(after) = params.after {
        pairs.push(("after", after.to_string()));
    }
    if let Some(before) = params.before {
        pairs.push(("before", before.to_string()));
    }
    if params.has_link {
        pairs.push(("has_link", "on".into()));
    }
    if params.public {
        pairs.push(("public", "on".into()));
    }
    if params.sort != SearchSort::Newest {
        pairs.push(("sort", params.sort.as_str().into()));
    }
    if let Some(cursor) = &params.cursor {
        pairs.push(("cursor", cursor.clone()));
    }
    format!(
        "/search?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}
