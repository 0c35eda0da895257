//! Who is signed in, shared by the header and the pages: the sign-in,
//! sign-up and sign-out actions, and a resource re-read after each of them.

use leptos::prelude::*;

use crate::auth::{current_user, SignIn, SignOut, SignUp, SignedInUser};
use crate::AppError;

/// The forms' server actions; provided once by the app.
#[derive(Clone, Copy)]
pub struct AuthActions {
    /// Sign in with a password.
    pub sign_in: ServerAction<SignIn>,
    /// Create an account.
    pub sign_up: ServerAction<SignUp>,
    /// Sign out.
    pub sign_out: ServerAction<SignOut>,
    /// The signed-in user, re-read whenever an action completes.
    pub user: Resource<Result<Option<SignedInUser>, AppError>>,
}

impl AuthActions {
    /// Creates the actions and the user resource.
    pub fn new() -> Self {
        let sign_in = ServerAction::<SignIn>::new();
        let sign_up = ServerAction::<SignUp>::new();
        let sign_out = ServerAction::<SignOut>::new();
        let user = Resource::new(
            move || {
                (
                    sign_in.version().get(),
                    sign_up.version().get(),
                    sign_out.version().get(),
                )
            },
            |_| current_user(),
        );
        Self {
            sign_in,
            sign_up,
            sign_out,
            user,
        }
    }
}

impl Default for AuthActions {
    fn default() -> Self {
        Self::new()
    }
}
