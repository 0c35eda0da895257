-- notifications. a user's defaults (no row: the defaults), a member's own setting per
-- conversation (on the membership, so it goes when they leave), each device's web push
-- subscription, the notifications a device shows (closed on the others when the user reads),
-- and the mentions and direct messages waiting for the email of what was missed.
create table notify_prefs (
    user_id   uuid primary key references users (id) on delete cascade,
    level     text not null default 'mentions' check (level in ('all', 'mentions', 'nothing')),
    previews  boolean not null default true,
    email     boolean not null default true,
    locale    text not null default 'en'
);

alter table members add column notify_level text check (notify_level in ('all', 'mentions', 'nothing'));
alter table members add column muted_until timestamptz;

-- endpoint is unique: a device subscribed again (or by another account) is one row. it belongs
-- to the session that subscribed it: signing out, a revoked session or a disabled account (whose
-- sessions end) stops its pushes, and a deleted session takes it along.
create table push_subscriptions (
    id            uuid primary key,
    user_id       uuid not null references users (id) on delete cascade,
    session_id    uuid not null references sessions (id) on delete cascade,
    endpoint      text not null unique,
    p256dh        text not null,
    auth          text not null,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz
);
create index push_subscriptions_user on push_subscriptions (user_id, created_at);

create table push_shown (
    user_id          uuid not null references users (id) on delete cascade,
    conversation_id  uuid not null references conversations (id) on delete cascade,
    seq              bigint not null,
    primary key (user_id, conversation_id)
);

-- one row per user with something waiting, due when its first item is old enough: claiming
-- the row (delete … returning) is what makes one process, not every process, send the email.
create table email_due (
    user_id  uuid primary key references users (id) on delete cascade,
    due_at   timestamptz not null
);
create index email_due_at on email_due (due_at);

create table email_pending (
    user_id     uuid not null references users (id) on delete cascade,
    message_id  uuid not null references messages (id) on delete cascade,
    primary key (user_id, message_id)
);
