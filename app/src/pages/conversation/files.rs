//! Files as a message shows them: images as thumbnails whose place is kept
//! before they load (their size travels with the message), opening in a
//! viewer (`?view=<file id>`: a link, so it works without JavaScript; with
//! it, ← and → go through the conversation's images and Esc closes); other
//! files as cards (a badge by type, the name, the size) that download.

use domain::files::Attachment;
use domain::ChatMessage;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use uuid::Uuid;

use crate::i18n::use_texts;

/// The files of one message.
#[component]
pub(super) fn MessageFiles(files: Vec<Attachment>, conversation_id: Uuid) -> impl IntoView {
    let t = use_texts().files();
    (!files.is_empty()).then(|| {
        let items = files
            .into_iter()
            .map(|file| match file.thumbnail_size() {
                Some((width, height)) if file.inline => view! {
                    <li class="file-image">
                        <a
                            href=format!("/c/{conversation_id}?view={}", file.id)
                            aria-label=t.open_image.replace("{name}", &file.name)
                        >
                            <img
                                src=file.thumbnail_url()
                                alt=file.name.clone()
                                width=width
                                height=height
                                loading="lazy"
                                decoding="async"
                            />
                        </a>
                    </li>
                }
                .into_any(),
                _ => view! {
                    <li>
                        <a
                            class="file-card"
                            href=file.url()
                            download=file.name.clone()
                            aria-label=t.download.replace("{name}", &file.name)
                        >
                            <span class="file-badge" aria-hidden="true">{badge(&file)}</span>
                            <span class="file-name">{file.name.clone()}</span>
                            <span class="file-size muted">{t.size(file.size)}</span>
                        </a>
                    </li>
                }
                .into_any(),
            })
            .collect_view();
        view! { <ul class="files">{items}</ul> }
    })
}

/// The short word on a file's card: its extension, else its type's.
fn badge(file: &Attachment) -> String {
    let from_name = file
        .name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| {
            (1..=4).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    let from_type = || file.content_type.rsplit('/').next().unwrap_or("file");
    from_name
        .unwrap_or_else(from_type)
        .chars()
        .take(4)
        .collect::<String>()
        .to_uppercase()
}

/// The images of the loaded messages, in order (the viewer's sequence).
fn images(messages: &[ChatMessage]) -> Vec<Attachment> {
    messages
        .iter()
        .flat_map(|m| m.files.iter())
        .filter(|f| f.inline)
        .cloned()
        .collect()
}

/// The viewer, open while the address says `?view=<file id>` of an image
/// among `messages`.
#[component]
pub(super) fn Viewer(conversation_id: Uuid, messages: RwSignal<Vec<ChatMessage>>) -> impl IntoView {
    let t = use_texts().files();
    let query = use_query_map();
    let open = Memo::new(move |_| {
        query
            .read()
            .get("view")
            .and_then(|id| id.parse::<Uuid>().ok())
    });
    let page = format!("/c/{conversation_id}");
    // The shown image and its neighbours' addresses.
    let shown = Memo::new(move |_| {
        let id = open.get()?;
        let list = messages.with(|m| images(m));
        let at = list.iter().position(|f| f.id == id)?;
        let link = |i: Option<usize>| {
            i.and_then(|i| list.get(i))
                .map(|f| format!("/c/{conversation_id}?view={}", f.id))
        };
        Some((
            list[at].clone(),
            link(at.checked_sub(1)),
            link(Some(at + 1)),
        ))
    });
    #[cfg(feature = "hydrate")]
    {
        let navigate = use_navigate();
        let page = page.clone();
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            let Some((_, previous, next)) = shown.get_untracked() else {
                return;
            };
            let to = match ev.key().as_str() {
                "Escape" => Some(page.clone()),
                "ArrowLeft" => previous,
                "ArrowRight" => next,
                _ => None,
            };
            if let Some(to) = to {
                ev.prevent_default();
                navigate(&to, Default::default());
            }
        });
        on_cleanup(move || keys.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = use_navigate;
    move || {
        shown.get().map(|(file, previous, next)| {
            let (width, height) = (file.width.unwrap_or(1), file.height.unwrap_or(1));
            view! {
                <div class="viewer" role="dialog" aria-modal="true" aria-label=t.viewer>
                    <a class="viewer-backdrop" href=page.clone() tabindex="-1" aria-hidden="true"></a>
                    <figure>
                        <img src=file.view_url() alt=file.name.clone() width=width height=height/>
                        <figcaption>
                            <span class="file-name">{file.name.clone()}</span>
                            <a class="link-button" href=file.url() download=file.name.clone()>
                                {t.download.replace("{name}", "").trim().to_owned()}
                            </a>
                        </figcaption>
                    </figure>
                    <nav class="viewer-nav">
                        {previous.map(|href| view! {
                            <a class="viewer-previous" href=href aria-label=t.previous>"←"</a>
                        })}
                        {next.map(|href| view! {
                            <a class="viewer-next" href=href aria-label=t.next>"→"</a>
                        })}
                        <a class="viewer-close" href=page.clone() aria-label=t.close autofocus>"✕"</a>
                    </nav>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, content_type: &str) -> Attachment {
        Attachment {
            id: Uuid::nil(),
            name: name.into(),
            content_type: content_type.into(),
            size: 1,
            width: None,
            height: None,
            inline: false,
        }
    }

    #[test]
    fn a_card_says_what_kind_of_file_it_is() {
        assert_eq!(badge(&file("report.pdf", "application/pdf")), "PDF");
        assert_eq!(badge(&file("archive.tar.gz", "application/gzip")), "GZ");
        assert_eq!(badge(&file("README", "text/plain")), "PLAI");
        assert_eq!(
            badge(&file("x.<script>", "application/octet-stream")),
            "OCTE"
        );
    }
}
