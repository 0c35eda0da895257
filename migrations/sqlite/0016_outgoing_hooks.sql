-- outgoing webhooks. keep in step with ../postgres/0016_outgoing_hooks.sql, which says what each part is.
alter table webhooks add column url text;
alter table webhooks add column trigger_word text;
alter table webhooks add column signing_secret text;

create table hook_deliveries (
    id               blob primary key not null,
    hook_id          blob not null references webhooks (id) on delete cascade,
    message_id       blob not null,
    payload          text not null,
    status           text not null default 'pending',
    attempts         integer not null default 0,
    next_at          text,
    lease_until      text,
    response_status  integer,
    error            text,
    created_at       text not null,
    done_at          text
);
create index hook_deliveries_due on hook_deliveries (next_at) where status = 'pending';
create index hook_deliveries_hook on hook_deliveries (hook_id, created_at);
create index hook_deliveries_done on hook_deliveries (done_at) where done_at is not null;
