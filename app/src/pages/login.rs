//! `/login` and `/register`: the sign-in and registration forms. Both are
//! server-function forms that also work without JavaScript; once hydrated,
//! fields are checked as they are typed, with the server's own rules.

use domain::{Email, Password, Username};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::components::auth_state::AuthActions;

/// The message to show: the action's error (hydrated form) or the
/// `?error=` a plain form post was redirected back with.
fn form_error(
    value: impl Get<Value = Option<Result<(), crate::AppError>>> + Copy + Send + Sync + 'static,
) -> impl Fn() -> Option<String> + Copy {
    let query = use_query_map();
    move || match value.get() {
        Some(Err(err)) => Some(err.to_string()),
        Some(Ok(())) => None,
        None => query.read().get("error"),
    }
}

fn next_param() -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || query.read().get("next").unwrap_or_default()
}

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let error = form_error(actions.sign_in.value());
    let next = next_param();
    view! {
        <Title text="Sign in · ChatSphere"/>
        <section class="panel auth-panel">
            <h1>"Sign in"</h1>
            <ActionForm action=actions.sign_in attr:class="form" attr:id="sign-in-form">
                <input type="hidden" name="next" value=next/>
                <label>
                    "Username or email"
                    <input name="login" required autocomplete="username"/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" required autocomplete="current-password"/>
                </label>
                <p class="error" role="alert" hidden=move || error().is_none()>{error}</p>
                <button class="button" type="submit">"Sign in"</button>
            </ActionForm>
            <p class="muted">
                "New here? " <A href=move || format!("/register?next={}", next())>"Create an account"</A>
            </p>
        </section>
    }
}

/// The registration form.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let error = form_error(actions.sign_up.value());
    let next = next_param();
    let username_hint = RwSignal::new(None::<String>);
    let email_hint = RwSignal::new(None::<String>);
    let password_hint = RwSignal::new(None::<String>);
    view! {
        <Title text="Create an account · ChatSphere"/>
        <section class="panel auth-panel">
            <h1>"Create an account"</h1>
            <ActionForm action=actions.sign_up attr:class="form" attr:id="register-form">
                <input type="hidden" name="next" value=next/>
                <label>
                    "Username"
                    <input
                        name="username"
                        required
                        autocomplete="username"
                        on:input:target=move |ev| {
                            username_hint.set(Username::parse(&ev.target().value()).err().map(|e| e.to_string()))
                        }
                    />
                    <span class="hint error" data-hint="username">{move || username_hint.get()}</span>
                </label>
                <label>
                    "Email (optional)"
                    <input
                        name="email"
                        type="email"
                        autocomplete="email"
                        on:input:target=move |ev| {
                            let value = ev.target().value();
                            email_hint.set(if value.trim().is_empty() { None } else {
                                Email::parse(&value).err().map(|e| e.to_string())
                            })
                        }
                    />
                    <span class="hint error" data-hint="email">{move || email_hint.get()}</span>
                </label>
                <label>
                    "Display name (optional)"
                    <input name="display_name" autocomplete="name"/>
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        required
                        autocomplete="new-password"
                        on:input:target=move |ev| {
                            password_hint.set(Password::parse(&ev.target().value()).err().map(|e| e.to_string()))
                        }
                    />
                    <span class="hint error" data-hint="password">{move || password_hint.get()}</span>
                </label>
                <p class="error" role="alert" hidden=move || error().is_none()>{error}</p>
                <button class="button" type="submit">"Create account"</button>
            </ActionForm>
            <p class="muted">
                "Already have an account? " <A href=move || format!("/login?next={}", next())>"Sign in"</A>
            </p>
        </section>
    }
}
