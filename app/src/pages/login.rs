//! `/login` and `/register`: the sign-in and registration forms. Both are
//! server-function forms that also work without JavaScript; once hydrated,
//! fields are checked as they are typed, with the server's own rules.

use domain::{Email, Login, Password, Username};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::auth_state::AuthActions;
use crate::i18n::use_texts;

/// The message to show: the action's error (hydrated form) or the one the
/// server handed to this page (`form`: its path) as a [flash](crate::flash)
/// (a plain form post, a refused provider sign-in, an ended session).
fn form_error(
    value: impl Get<Value = Option<Result<(), crate::AppError>>> + Copy + Send + Sync + 'static,
    form: &'static str,
) -> impl Fn() -> Option<String> + Copy {
    let flash = crate::flash::use_flash();
    let t = use_texts();
    move || match value.get() {
        Some(Err(err)) => Some(t.error(&err)),
        Some(Ok(())) => None,
        None => flash.text_for(form),
    }
}

/// "Sign in with …" links, one per configured provider (plain links: the
/// flow is a chain of redirects and needs no JavaScript).
#[component]
fn ProviderButtons(next: impl Fn() -> String + Copy + Send + Sync + 'static) -> impl IntoView {
    let providers = Resource::new(|| (), |_| crate::auth::oauth_providers());
    let t = use_texts();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = providers.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <div class="oauth-providers">
                        <p class="divider muted">{t.or_divider}</p>
                        {list.into_iter().map(|p| {
                            let id = p.id.clone();
                            let href = move || with_next(&format!("/auth/oauth2/{id}/start"), next());
                            view! {
                                <a class="button secondary oauth-button" rel="external" data-provider=p.id.clone() href=href>
                                    {t.sign_in_with.replace("{provider}", &p.name)}
                                </a>
                            }
                        }).collect_view()}
                    </div>
                })
            })}
        </Suspense>
    }
}

/// The page's `?next=`, for the hidden field and the links that carry it on.
/// The server checks it ([`domain::LocalPath`]) wherever it is used — signing
/// in, registering, starting an identity provider's sign-in — and renders
/// only the checked path into the page. The browser passes the query on as
/// it is rather than checking it a second time: the check needs a full URL
/// parser (the `url` crate, with its IDNA tables), which would be about
/// 50 KB of every page's WebAssembly for a value that is never followed here.
fn next_param() -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || {
        let next = query.read().get("next");
        #[cfg(feature = "ssr")]
        let next = domain::LocalPath::from_next(next.as_deref()).into_string();
        #[cfg(not(feature = "ssr"))]
        let next = next.unwrap_or_else(|| "/".to_owned());
        next
    }
}

/// `page` with `next` as its (encoded) query.
fn with_next(page: &str, next: String) -> String {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    format!("{page}?{query}")
}

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let error = form_error(actions.sign_in.value(), "/login");
    let next = next_param();
    let t = use_texts();
    view! {
        <Title text=format!("{} · ChatSphere", t.sign_in)/>
        <section class="panel auth-panel">
            <h1>{t.sign_in}</h1>
            <ActionForm action=actions.sign_in attr:class="form" attr:id="sign-in-form">
                <input type="hidden" name="next" value=next/>
                <label>
                    {t.login_field}
                    <input name="login" required autocomplete="username" maxlength=Login::MAX.to_string()/>
                </label>
                <label>
                    {t.password_field}
                    <input
                        type="password"
                        name="password"
                        required
                        autocomplete="current-password"
                        maxlength=Password::MAX.to_string()
                    />
                </label>
                <p class="error" role="alert" hidden=move || error().is_none()>{error}</p>
                <button class="button" type="submit">{t.sign_in}</button>
            </ActionForm>
            <ProviderButtons next=next/>
            <p class="muted">
                {t.new_here}" " <A href=move || with_next("/register", next())>{t.create_account}</A>
            </p>
        </section>
    }
}

/// The registration form.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let error = form_error(actions.sign_up.value(), "/register");
    let next = next_param();
    let username_hint = RwSignal::new(None::<String>);
    let email_hint = RwSignal::new(None::<String>);
    let password_hint = RwSignal::new(None::<String>);
    let t = use_texts();
    view! {
        <Title text=format!("{} · ChatSphere", t.register_title)/>
        <section class="panel auth-panel">
            <h1>{t.register_title}</h1>
            <ActionForm action=actions.sign_up attr:class="form" attr:id="register-form">
                <input type="hidden" name="next" value=next/>
                <label>
                    {t.username_field}
                    <input
                        name="username"
                        required
                        autocomplete="username"
                        on:input:target=move |ev| {
                            username_hint.set(Username::parse(&ev.target().value()).err().map(|e| t.name_error(&e)))
                        }
                    />
                    <span class="hint error" data-hint="username">{move || username_hint.get()}</span>
                </label>
                <label>
                    {t.email_optional}
                    <input
                        name="email"
                        type="email"
                        autocomplete="email"
                        on:input:target=move |ev| {
                            let value = ev.target().value();
                            email_hint.set(if value.trim().is_empty() { None } else {
                                Email::parse(&value).err().map(|e| t.name_error(&e))
                            })
                        }
                    />
                    <span class="hint error" data-hint="email">{move || email_hint.get()}</span>
                </label>
                <label>
                    {t.display_name_optional}
                    <input name="display_name" autocomplete="name"/>
                </label>
                <label>
                    {t.password_field}
                    <input
                        type="password"
                        name="password"
                        required
                        autocomplete="new-password"
                        on:input:target=move |ev| {
                            password_hint.set(Password::parse(&ev.target().value()).err().map(|e| t.name_error(&e)))
                        }
                    />
                    <span class="hint error" data-hint="password">{move || password_hint.get()}</span>
                </label>
                <p class="error" role="alert" hidden=move || error().is_none()>{error}</p>
                <button class="button" type="submit">{t.create_account}</button>
            </ActionForm>
            <ProviderButtons next=next/>
            <p class="muted">
                {t.have_account}" " <A href=move || with_next("/login", next())>{t.sign_in}</A>
            </p>
        </section>
    }
}
