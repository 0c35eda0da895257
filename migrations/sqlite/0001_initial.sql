-- ChatSphere schema, SQLite flavour. Keep in step with ../postgres/0001_initial.sql.
-- ids are uuid v7 stored as 16-byte blobs; timestamps are RFC 3339 text in UTC.

-- a person who can sign in. password_hash is null for accounts that only use OAuth.
create table users (
    id              blob primary key not null,
    username        text not null,
    email           text,
    email_verified  integer not null default 0,
    display_name    text not null,
    avatar_url      text,
    password_hash   text,
    created_at      text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_seen_at    text
);
-- usernames and emails are unique without regard to (ASCII) case.
create unique index users_username_key on users (lower(username));
create unique index users_email_key on users (lower(email)) where email is not null;

-- an account at an external identity provider (google, github, an oidc issuer) linked to a user.
create table external_identities (
    provider    text not null,
    subject     text not null,
    user_id     blob not null references users (id) on delete cascade,
    email       text,
    created_at  text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    primary key (provider, subject)
);
create index external_identities_user on external_identities (user_id);

-- a signed-in device: one refresh-token family. revoked_at ends it (logout, reuse detected).
create table sessions (
    id            blob primary key not null,
    user_id       blob not null references users (id) on delete cascade,
    user_agent    text,
    ip_address    text,
    created_at    text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at  text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at    text not null,
    revoked_at    text
);
create index sessions_user on sessions (user_id);

-- one refresh token of a session, stored only as a sha-256 hash. a token presented after
-- used_at is set is a reuse: the whole session is revoked.
create table refresh_tokens (
    token_hash  blob primary key not null,
    session_id  blob not null references sessions (id) on delete cascade,
    issued_at   text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    used_at     text
);
create index refresh_tokens_session on refresh_tokens (session_id);

-- access-token ids revoked before their expiry (deny list when redis is not configured).
create table revoked_access_tokens (
    jti         text primary key not null,
    expires_at  text not null
);

-- a direct message pair, a private group or a room. last_seq is the highest message
-- sequence number handed out in it; direct_key ('<smaller uuid>:<larger uuid>') keeps one
-- direct conversation per pair.
create table conversations (
    id          blob primary key not null,
    kind        text not null check (kind in ('direct', 'group', 'room')),
    name        text,
    topic       text not null default '',
    is_public   integer not null default 0,
    direct_key  text unique,
    created_by  blob references users (id) on delete set null,
    created_at  text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_seq    integer not null default 0
);
create unique index conversations_room_name on conversations (lower(name)) where kind = 'room';

-- a user's membership of a conversation, with how far they have received and read.
create table members (
    conversation_id  blob not null references conversations (id) on delete cascade,
    user_id          blob not null references users (id) on delete cascade,
    role             text not null default 'member' check (role in ('owner', 'admin', 'member')),
    joined_at        text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    delivered_seq    integer not null default 0,
    read_seq         integer not null default 0,
    primary key (conversation_id, user_id)
);
create index members_user on members (user_id);

-- a message. seq is dense per conversation; (sender_id, client_msg_id) makes sends idempotent.
create table messages (
    id               blob primary key not null,
    conversation_id  blob not null references conversations (id) on delete cascade,
    seq              integer not null,
    sender_id        blob not null references users (id),
    client_msg_id    text not null,
    body             text not null,
    reply_to         blob references messages (id) on delete set null,
    created_at       text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    edited_at        text,
    deleted_at       text,
    unique (conversation_id, seq),
    unique (sender_id, client_msg_id)
);

-- the public rooms every installation starts with, as in the spec.
insert into conversations (id, kind, name, topic, is_public) values
    (x'019a0000000070008000000000000001', 'room', 'general', 'Company-wide announcements and conversation', 1),
    (x'019a0000000070008000000000000002', 'room', 'tech', 'Engineering, tools and troubleshooting', 1),
    (x'019a0000000070008000000000000003', 'room', 'random', 'Everything else', 1);
