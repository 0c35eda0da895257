-- edits and deletions. each is a change of its conversation, numbered by the conversation's
-- own change counter (last_change; message sequence numbers stay 1, 2, 3, … without gaps).
-- a message row holds its current state and the number of its latest change, so the changes
-- a client missed are the messages whose change_seq is above the client's position.
alter table conversations add column last_change integer not null default 0;
alter table messages add column change_seq integer not null default 0;
create index messages_changes on messages (conversation_id, change_seq) where change_seq > 0;
-- the text an edit replaced, for the audit log only (never shown in the conversation);
-- deleting the message removes them with its body.
create table message_versions (
    message_id  blob not null references messages (id) on delete cascade,
    change_seq  integer not null,
    body        text not null,
    replaced_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    primary key (message_id, change_seq)
);
