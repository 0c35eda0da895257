-- mentions: the members a message names (a JSON array of their ids, as text; empty: none) and
-- whether it names everyone (@all, @here), fixed when it is sent. a deletion empties both. the
-- partial index finds a conversation's mentioning messages after a read position without
-- reading the others (the sidebar's mention badge).
alter table messages add column mentions text not null default '';
alter table messages add column mentions_all integer not null default 0;
create index messages_mentions on messages (conversation_id, seq) where mentions <> '' or mentions_all;
