-- integrations. keep in step with ../postgres/0015_integrations.sql, which says what each part is.
alter table users add column is_bot integer not null default 0;
alter table users add column bot_owner blob references users (id) on delete set null;
alter table users add column webhook_bot integer not null default 0;

create table access_tokens (
    id            blob primary key not null,
    user_id       blob not null references users (id) on delete cascade,
    name          text not null,
    token_hash    blob not null unique,
    scopes        text not null,
    created_by    blob references users (id) on delete set null,
    created_at    text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at    text not null,
    last_used_at  text,
    revoked_at    text
);
create index access_tokens_user on access_tokens (user_id, created_at);

alter table messages add column label text;

create table webhooks (
    id               blob primary key not null,
    conversation_id  blob not null references conversations (id) on delete cascade,
    bot_id           blob not null references users (id) on delete cascade,
    creator_id       blob not null references users (id) on delete cascade,
    name             text not null,
    secret_hash      blob not null,
    created_at       text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    rotated_at       text
);
create index webhooks_conversation on webhooks (conversation_id, created_at);
