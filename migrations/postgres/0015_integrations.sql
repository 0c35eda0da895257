-- integrations. bots are users that act only through tokens (no password, no identity);
-- bot_owner is who created one and may give it tokens; a webhook's own bot (webhook_bot) never
-- gets tokens, and is disabled when its webhook is deleted. a personal access token is stored only
-- as a sha-256 hash of its secret; scopes is a comma-separated list (read, post, admin).
-- a message an integration posted under a name of its own (slack's `username`) keeps it in
-- label. an incoming webhook posts as its own bot into one conversation; its secret, part of
-- its url, is stored hashed too.
alter table users add column is_bot boolean not null default false;
alter table users add column bot_owner uuid references users (id) on delete set null;
alter table users add column webhook_bot boolean not null default false;

create table access_tokens (
    id            uuid primary key,
    user_id       uuid not null references users (id) on delete cascade,
    name          text not null,
    token_hash    bytea not null unique,
    scopes        text not null,
    created_by    uuid references users (id) on delete set null,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
create index access_tokens_user on access_tokens (user_id, created_at);

alter table messages add column label text;

create table webhooks (
    id               uuid primary key,
    conversation_id  uuid not null references conversations (id) on delete cascade,
    bot_id           uuid not null references users (id) on delete cascade,
    creator_id       uuid not null references users (id) on delete cascade,
    name             text not null,
    secret_hash      bytea not null,
    created_at       timestamptz not null default now(),
    rotated_at       timestamptz
);
create index webhooks_conversation on webhooks (conversation_id, created_at);
