-- outgoing webhooks. a webhook with a url is outgoing: each new message of its conversation
-- (only those starting with trigger_word, if set) is posted there, signed with signing_secret
-- (kept as it is: it is needed to sign). each post is a delivery, queued by the process that
-- stored the message and claimed for a lease (lease_until) by one sender; status is pending,
-- delivered or failed; payload is the json body sent.
alter table webhooks add column url text;
alter table webhooks add column trigger_word text;
alter table webhooks add column signing_secret text;

create table hook_deliveries (
    id               uuid primary key,
    hook_id          uuid not null references webhooks (id) on delete cascade,
    message_id       uuid not null,
    payload          text not null,
    status           text not null default 'pending',
    attempts         integer not null default 0,
    next_at          timestamptz,
    lease_until      timestamptz,
    response_status  integer,
    error            text,
    created_at       timestamptz not null,
    done_at          timestamptz
);
create index hook_deliveries_due on hook_deliveries (next_at) where status = 'pending';
create index hook_deliveries_hook on hook_deliveries (hook_id, created_at);
create index hook_deliveries_done on hook_deliveries (done_at) where done_at is not null;
