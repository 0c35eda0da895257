-- new messages wait here to be indexed: a message's transaction adds one row to this table (the trigger
-- below: no statement more; one b-tree, always appended to) instead of its message_search row, its three indexes and an fts5
-- segment, which nearly doubled what storing a message cost. the server indexes the queue in
-- batches right after (services/src/store/sqlite/search/queue.rs), and before every search, so
-- a search finds every message stored before it began, as before. an edit needs nothing here
-- (the batch reads the message as it is when written); a deletion is skipped by the batch.
create table search_queue (
    seq         integer primary key,
    message_id  blob not null
);
create trigger messages_search_queue after insert on messages begin
    insert into search_queue (message_id) values (new.id);
end;
