//! A secret shown once (a new access token, a webhook's address), with
//! the reminder to copy it now.

use leptos::prelude::*;

use crate::i18n::use_texts;

/// The secret in `children`, as `<code id=…>`.
#[component]
pub fn ShownOnce(id: &'static str, children: Children) -> impl IntoView {
    let t = use_texts().integrations();
    view! {
        <div class="secret-box" role="status">
            <p>{t.copy_now}</p>
            <code id=id class="secret">{children()}</code>
        </div>
    }
}
