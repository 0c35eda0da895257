-- an OAuth2/OIDC sign-in started in a browser and not yet finished: one row per
-- `state`, deleted when the provider sends the browser back (or when expired).
-- state_hash is the SHA-256 of the state; the state itself is never stored.
create table oauth_logins (
    state_hash     bytea primary key,
    provider       text not null,
    pkce_verifier  text not null,
    nonce          text not null,
    next_path      text not null,
    expires_at     timestamptz not null
);
create index oauth_logins_expires on oauth_logins (expires_at);
