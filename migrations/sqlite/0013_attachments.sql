-- files sent with a message, as the message shows them (json, like reactions): written in the
-- message's transaction, erased with it.
alter table messages add column files text not null default '';

-- the bytes of deleted file records, waiting to be removed from the file store (a directory or
-- an s3 bucket, outside any transaction). every way a record goes (its message deleted, its
-- conversation deleted, an upload never sent) passes through the trigger, so no object is
-- forgotten when a process stops between the commit and the removal.
create table file_removals (
    file_id     blob primary key,
    removed_at  text not null
);
create trigger files_removed after delete on files
begin
    insert or ignore into file_removals (file_id, removed_at)
    values (old.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
end;
