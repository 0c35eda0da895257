-- a client message id makes a send idempotent within its conversation only: the same id
-- used in another conversation is another message, never the first one returned again.
-- sqlite cannot drop a table constraint, so the table is rebuilt. reply_to refers to the new
-- table itself (renamed with it): a reference to the old table would be set to null when the
-- old table is dropped.
create table messages_new (
    id               blob primary key not null,
    conversation_id  blob not null references conversations (id) on delete cascade,
    seq              integer not null,
    sender_id        blob not null references users (id),
    client_msg_id    text not null,
    body             text not null,
    reply_to         blob references messages_new (id) on delete set null,
    created_at       text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    edited_at        text,
    deleted_at       text,
    unique (conversation_id, seq),
    unique (conversation_id, sender_id, client_msg_id)
);
insert into messages_new (id, conversation_id, seq, sender_id, client_msg_id, body, reply_to,
                          created_at, edited_at, deleted_at)
    select id, conversation_id, seq, sender_id, client_msg_id, body, reply_to,
           created_at, edited_at, deleted_at
    from messages;
drop table messages;
alter table messages_new rename to messages;
create index messages_created on messages (created_at);
