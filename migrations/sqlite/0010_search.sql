-- message search. the server tokenizes each message (services::search::tokens: stems of words,
-- one token per chinese character) and keeps the result in message_search; message_fts is an
-- fts5 index over it (its 'ascii' tokenizer splits only at the spaces the server put between
-- tokens). doc is an integer key, in message order, that fts5 can use as its rowid (messages
-- has none that survives a vacuum); its conversation and sender are kept beside it, so that
-- who may read it and from: are checked without reading the message. a deleted message's row is removed, so it is never found.
-- stems is null while a message stored before this migration waits to be indexed: the server
-- fills those in batches, oldest first, in the background (resumable: the nulls are the queue).
create table message_search (
    doc              integer primary key,
    message_id       blob not null unique references messages (id) on delete cascade,
    conversation_id  blob not null,
    sender_id        blob not null,
    has_link         integer not null default 0,
    stems            text,
    words            text
);
create index message_search_pending on message_search (doc) where stems is null;
create index message_search_conversation on message_search (conversation_id, doc);
create index message_search_sender on message_search (sender_id, doc);

create virtual table message_fts using fts5 (
    stems, words,
    content = 'message_search', content_rowid = 'doc',
    tokenize = 'ascii'
);

-- a deleted message's tokens are erased from the index's pages at once (by default fts5 only
-- marks them deleted until its segments merge; with secure_delete on, sqlite zeroes freed pages).
insert into message_fts (message_fts, rank) values ('secure-delete', 1);

create trigger message_search_insert after insert on message_search when new.stems is not null begin
    insert into message_fts (rowid, stems, words) values (new.doc, new.stems, new.words);
end;
create trigger message_search_delete after delete on message_search when old.stems is not null begin
    insert into message_fts (message_fts, rowid, stems, words) values ('delete', old.doc, old.stems, old.words);
end;
create trigger message_search_update after update of stems, words on message_search begin
    insert into message_fts (message_fts, rowid, stems, words)
        select 'delete', old.doc, old.stems, old.words where old.stems is not null;
    insert into message_fts (rowid, stems, words)
        select new.doc, new.stems, new.words where new.stems is not null;
end;

-- every message already stored, in order, waiting to be indexed.
insert into message_search (message_id, conversation_id, sender_id)
    select id, conversation_id, sender_id from messages where deleted_at is null order by created_at, id;
