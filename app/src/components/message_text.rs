//! A message body with its formatting (see [`domain::markdown`]): blocks,
//! emphasis, code, links and mentions. Everything is rendered as elements,
//! text nodes and attributes — never as HTML — so a body cannot inject
//! markup, and links only ever lead to `http(s)://` or `mailto:` URLs.

use domain::markdown::{parse, Block, Inline};
use leptos::prelude::*;

/// Renders a body. `me`, the reader's username, marks mentions of the
/// reader (and `@here`, `@all`) with the class `me`.
#[component]
pub fn MessageText(text: String, #[prop(default = None)] me: Option<String>) -> impl IntoView {
    let me = me.as_deref().filter(|me| !me.is_empty());
    parse(&text)
        .into_iter()
        .map(|block| block_view(block, me))
        .collect::<Vec<_>>()
}

fn block_view(block: Block<'_>, me: Option<&str>) -> AnyView {
    match block {
        Block::Paragraph(inlines) => view! { <p>{inline_views(inlines, me)}</p> }.into_any(),
        Block::Code { lang, text } => {
            let text = text.to_owned();
            match lang {
                Some(lang) => view! {
                    <pre><code class=format!("language-{lang}")>{text}</code></pre>
                }
                .into_any(),
                None => view! { <pre><code>{text}</code></pre> }.into_any(),
            }
        }
        Block::Quote(inlines) => {
            view! { <blockquote>{inline_views(inlines, me)}</blockquote> }.into_any()
        }
        Block::List { start, items } => {
            let items = items
                .into_iter()
                .map(|item| view! { <li>{inline_views(item, me)}</li> }.into_any())
                .collect::<Vec<_>>();
            match start {
                Some(n) => view! { <ol start=n.to_string()>{items}</ol> }.into_any(),
                None => view! { <ul>{items}</ul> }.into_any(),
            }
        }
    }
}

/// The views of `inlines`, adjacent text joined into one text node.
///
/// A line break is a newline in that text, not a `<br>`: `.body` keeps
/// white space (`pre-wrap`), so it shows as one, and the text of a
/// message stays the text that was sent (copying it, or reading
/// `textContent` as the end-to-end tests do, keeps its lines).
fn inline_views(inlines: Vec<Inline<'_>>, me: Option<&str>) -> Vec<AnyView> {
    let mut out = Vec::with_capacity(inlines.len());
    let mut text = String::new();
    for inline in inlines {
        match inline {
            Inline::Text(t) => text.push_str(t),
            Inline::Break => text.push('\n'),
            other => {
                if !text.is_empty() {
                    out.push(std::mem::take(&mut text).into_any());
                }
                out.push(inline_view(other, me));
            }
        }
    }
    if !text.is_empty() {
        out.push(text.into_any());
    }
    out
}

fn inline_view(inline: Inline<'_>, me: Option<&str>) -> AnyView {
    match inline {
        Inline::Text(t) => t.to_owned().into_any(),
        Inline::Break => "\n".into_any(),
        Inline::Strong(c) => view! { <strong>{inline_views(c, me)}</strong> }.into_any(),
        Inline::Emphasis(c) => view! { <em>{inline_views(c, me)}</em> }.into_any(),
        Inline::Strike(c) => view! { <s>{inline_views(c, me)}</s> }.into_any(),
        Inline::Code(t) => view! { <code>{t.to_owned()}</code> }.into_any(),
        Inline::Link { url, children } => view! {
            <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">
                {inline_views(children, me)}
            </a>
        }
        .into_any(),
        Inline::Mention(name) => {
            let class = if mentions_reader(name, me) {
                "mention me"
            } else {
                "mention"
            };
            view! { <span class=class data-user=name.to_owned()>{format!("@{name}")}</span> }
                .into_any()
        }
    }
}

/// Whether a mention of `name` addresses the reader (usernames are
/// unique without regard to case).
fn mentions_reader(name: &str, me: Option<&str>) -> bool {
    me.is_some_and(|me| matches!(name, "here" | "all") || name.eq_ignore_ascii_case(me))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str, me: Option<&str>) -> String {
        let text = text.to_owned();
        let html = match me {
            Some(me) => view! { <MessageText text me=Some(me.to_owned())/> }.to_html(),
            None => view! { <MessageText text/> }.to_html(),
        };
        html.replace("<!>", "")
    }

    #[test]
    fn message_text_renders_elements_not_markup() {
        assert_eq!(html("a\nb *c\nd*", None), "<p>a\nb *c\nd*</p>");
        let out = html("**hi** <b>x</b> [a](javascript:alert(1))", None);
        assert!(out.contains("<strong>hi</strong>"), "{out}");
        assert!(out.contains("&lt;b&gt;x&lt;/b&gt;"), "{out}");
        assert!(!out.contains("href=\"javascript"), "{out}");
        let out = html("see https://a.cn/?a=1&b=2 `<i>`", None);
        assert!(
            out.contains("<a href=\"https://a.cn/?a=1&amp;b=2\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">https://a.cn/?a=1&amp;b=2</a>"),
            "{out}"
        );
        assert!(out.contains("<code>&lt;i&gt;</code>"), "{out}");
        let out = html(
            "```\n<b>\n```\n```rust\nfn main() {}\n```\n> q\n\n3. c",
            None,
        );
        assert!(out.contains("<pre><code>&lt;b&gt;</code></pre>"), "{out}");
        assert!(
            out.contains("<pre><code class=\"language-rust\">fn main() {}</code></pre>"),
            "{out}"
        );
        assert!(out.contains("<blockquote>q</blockquote>"), "{out}");
        assert!(out.contains("<ol start=\"3\"><li>c</li></ol>"), "{out}");
    }

    #[test]
    fn message_text_marks_mentions_of_the_reader() {
        let out = html("@Bob @carol", Some("bob"));
        assert!(
            out.contains("<span data-user=\"Bob\" class=\"mention me\">@Bob</span>"),
            "{out}"
        );
        assert!(
            out.contains("<span data-user=\"carol\" class=\"mention\">@carol</span>"),
            "{out}"
        );
        assert!(html("@here", None).contains("class=\"mention\""));
        assert!(html("@here", Some("bob")).contains("class=\"mention me\""));
    }
}
