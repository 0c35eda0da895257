-- one event of the audit log: a sign-in (or refused one), a sign-out, a password or role
-- change, a disabled account, a real-time connection... kept until pruned. user_id (whom it is
-- about) and actor_id (who did it, when someone else: an admin) are deliberately not foreign
-- keys: the record outlives the account. detail is a small json object.
create table audit_events (
    id           uuid primary key,
    occurred_at  timestamptz not null,
    kind         text not null,
    user_id      uuid,
    actor_id     uuid,
    ip           text,
    user_agent   text,
    detail       text
);
-- newest first, by time alone, per user and per kind; id orders events of the same instant.
create index audit_events_occurred on audit_events (occurred_at, id);
create index audit_events_user on audit_events (user_id, occurred_at, id);
create index audit_events_kind on audit_events (kind, occurred_at, id);
