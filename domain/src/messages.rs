//! The server's fixed, user-facing messages. Services send them in English
//! (API clients read them in problem documents); the web UI recognises them
//! and shows its own translation (`app::i18n`), so each one lives here once.

/// Wrong username/email or password (the same for an unknown account).
pub const BAD_CREDENTIALS: &str = "invalid username, email or password";
/// The refresh token's session is over.
pub const SESSION_ENDED: &str = "the session has ended; sign in again";
/// The access token is missing, invalid, expired or revoked.
pub const BAD_ACCESS_TOKEN: &str = "missing, invalid or expired access token";
/// A personal access token without the `post` scope tried to change
/// something.
pub const TOKEN_READ_ONLY: &str = "this access token may only read (it lacks the post scope)";
/// A personal access token without the `read` scope tried to read.
pub const TOKEN_WRITE_ONLY: &str = "this access token may not read (it lacks the read scope)";
/// A personal access token tried what only a signed-in session may
/// (sessions, password, tokens, bots, push devices).
pub const TOKEN_NEEDS_SESSION: &str = "an access token cannot do this; sign in instead";
/// A personal access token without the `admin` scope used an admin route.
pub const TOKEN_LACKS_ADMIN: &str = "this access token lacks the admin scope";
/// The current password given for a password change is wrong.
pub const WRONG_CURRENT_PASSWORD: &str = "the current password is wrong";
/// Start of the message for a password that is too easy to guess.
pub const COMMON_PASSWORD: &str = "password: Choose a less common password";
/// An avatar URL that is not an http(s) URL of sane length.
pub const BAD_AVATAR_URL: &str = "avatar_url: must be an http(s) URL of at most 2048 characters";
/// An external sign-in whose state is unknown, used or from another browser.
pub const SIGN_IN_LINK_EXPIRED: &str =
    "this sign-in link has expired or was already used; please start again";
/// The user cancelled at the identity provider.
pub const SIGN_IN_CANCELLED: &str = "sign-in was cancelled at the provider";
/// The identity provider's answer failed verification.
pub const PROVIDER_ANSWER_UNVERIFIED: &str =
    "the provider's answer could not be verified; please start again";
/// A client's provider token was refused: invalid, expired, or issued to
/// another application.
pub const PROVIDER_TOKEN_REFUSED: &str =
    "the provider token is invalid, expired or was not issued to this application";
/// The identity provider could not be reached.
pub const PROVIDER_UNAVAILABLE: &str = "the identity provider is unavailable; try again later";
/// The account was disabled by an admin: signing in and refreshing are
/// refused.
pub const ACCOUNT_DISABLED: &str = "this account has been disabled; ask an administrator";
/// Someone who is not an (enabled) admin asked for an admin action.
pub const ADMINS_ONLY: &str = "only admins may do this";
/// An admin tried to disable or demote their own account.
pub const NOT_YOUR_OWN_ACCOUNT: &str = "admins cannot disable or demote their own account";
/// An email address that cannot go on this account, whatever the reason
/// (one already in use included: never said, so registration does not tell
/// whose addresses have accounts).
pub const EMAIL_UNAVAILABLE: &str =
    "email: this address cannot be used here; use another one or leave it empty";

/// Someone other than its sender tried to edit a message (nobody edits
/// another person's words, admins included).
pub const NOT_YOUR_MESSAGE: &str = "only its sender can edit a message";
/// An edit after the configured edit window.
pub const EDIT_WINDOW_OVER: &str = "this message can no longer be edited";
/// Someone who is neither its sender nor a manager of its conversation
/// tried to delete a message.
pub const MAY_NOT_DELETE: &str =
    "only its sender or an owner or admin of the conversation can delete a message";

/// A reaction that is not one emoji.
pub const NOT_AN_EMOJI: &str = "emoji: a reaction is one emoji";
/// A new emoji on a message that already carries the most distinct ones.
pub const TOO_MANY_REACTIONS: &str = "this message already has 50 different reactions";
/// A search's paging cursor that no page gave.
pub const BAD_SEARCH_CURSOR: &str = "cursor: not one this server gave";
/// A search too broad to answer within its time limit.
pub const SEARCH_TOO_BROAD: &str = "search: too broad to answer in time; add words or filters";

/// An upload over the operator's size limit.
pub const FILE_TOO_LARGE: &str = "file: larger than this server accepts";
/// An upload that would take its sender past their storage quota.
pub const FILE_QUOTA_EXCEEDED: &str =
    "file: your storage quota is used up; delete some files first";
/// An upload of a type the operator does not allow.
pub const FILE_TYPE_NOT_ALLOWED: &str = "file: this type of file is not allowed here";
/// An upload with nothing in it.
pub const FILE_EMPTY: &str = "file: the file is empty";
/// An image whose header claims more pixels than are ever decoded.
pub const IMAGE_TOO_LARGE: &str = "file: this image has too many pixels to be shown";
/// An upload whose body broke off before its end.
pub const UPLOAD_INTERRUPTED: &str = "file: the upload broke off; try again";
/// A file form sent without a file.
pub const NO_FILE_CHOSEN: &str = "file: choose a file to send";

/// Push is not set up on this server (no VAPID key).
pub const PUSH_OFF: &str = "push: not available on this server";
/// A push subscription whose endpoint or keys cannot be used.
pub const BAD_PUSH_SUBSCRIPTION: &str =
    "push subscription: the endpoint must be a public https URL with valid keys";
/// A notification language that is not one of ours.
pub const BAD_NOTIFY_LOCALE: &str = "locale: expected en or zh-CN";

/// Webhooks post into groups and rooms, not direct conversations.
pub const HOOKS_NOT_IN_DIRECT: &str =
    "webhooks post into groups and rooms, not direct conversations";
/// Only the conversation's owners and admins may manage its webhooks.
pub const HOOKS_MANAGERS_ONLY: &str =
    "only the conversation's owners and admins may manage its webhooks";
/// This conversation has as many webhooks as it may.
pub const TOO_MANY_HOOKS: &str = "this conversation has as many webhooks as it may";
/// Only an admin's own token may have the admin scope.
pub const ADMIN_SCOPE_OWN_ONLY: &str = "only an admin's own token may have the admin scope";
/// A token may revoke only itself; sign in to manage tokens.
pub const TOKEN_REVOKES_ITSELF_ONLY: &str =
    "a token may revoke only itself; sign in to manage tokens";
/// That account has as many live tokens as it may.
pub const TOO_MANY_TOKENS: &str = "that account has as many live tokens as it may";
/// Only admins may create bots here.
pub const BOTS_ADMINS_ONLY: &str = "only admins may create bots here";
/// An outgoing webhook's URL is not an http(s) URL of at most 2048 characters.
pub const BAD_HOOK_URL: &str = "url: must be an http(s) URL of at most 2048 characters";
/// A trigger word is not one word of at most 32 characters.
pub const BAD_TRIGGER_WORD: &str =
    "trigger_word: must be one word of 1 to 32 characters, without spaces";
/// An outgoing webhook's URL must be public https.
pub const HOOK_URL_NOT_ALLOWED: &str =
    "url: must be an https address on the public internet (this server allows no other)";
/// A trigger word is for outgoing webhooks (those with a URL).
pub const TRIGGER_NEEDS_URL: &str = "trigger_word: only outgoing webhooks (with a url) have one";
/// Only outgoing webhooks have a delivery log.
pub const NOT_AN_OUTGOING_HOOK: &str = "only outgoing webhooks have a delivery log";

/// Every message above, for the translation tests.
pub const ALL: [&str; 48] = [
    BAD_CREDENTIALS,
    SESSION_ENDED,
    BAD_ACCESS_TOKEN,
    WRONG_CURRENT_PASSWORD,
    COMMON_PASSWORD,
    BAD_AVATAR_URL,
    SIGN_IN_LINK_EXPIRED,
    SIGN_IN_CANCELLED,
    PROVIDER_ANSWER_UNVERIFIED,
    PROVIDER_TOKEN_REFUSED,
    PROVIDER_UNAVAILABLE,
    ACCOUNT_DISABLED,
    ADMINS_ONLY,
    NOT_YOUR_OWN_ACCOUNT,
    EMAIL_UNAVAILABLE,
    NOT_YOUR_MESSAGE,
    EDIT_WINDOW_OVER,
    MAY_NOT_DELETE,
    NOT_AN_EMOJI,
    TOO_MANY_REACTIONS,
    BAD_SEARCH_CURSOR,
    SEARCH_TOO_BROAD,
    FILE_TOO_LARGE,
    FILE_QUOTA_EXCEEDED,
    FILE_TYPE_NOT_ALLOWED,
    FILE_EMPTY,
    IMAGE_TOO_LARGE,
    UPLOAD_INTERRUPTED,
    NO_FILE_CHOSEN,
    PUSH_OFF,
    BAD_PUSH_SUBSCRIPTION,
    BAD_NOTIFY_LOCALE,
    HOOKS_NOT_IN_DIRECT,
    HOOKS_MANAGERS_ONLY,
    TOO_MANY_HOOKS,
    ADMIN_SCOPE_OWN_ONLY,
    TOKEN_REVOKES_ITSELF_ONLY,
    TOO_MANY_TOKENS,
    BOTS_ADMINS_ONLY,
    BAD_HOOK_URL,
    BAD_TRIGGER_WORD,
    HOOK_URL_NOT_ALLOWED,
    NOT_AN_OUTGOING_HOOK,
    TRIGGER_NEEDS_URL,
    TOKEN_READ_ONLY,
    TOKEN_WRITE_ONLY,
    TOKEN_NEEDS_SESSION,
    TOKEN_LACKS_ADMIN,
];
