-- files sent with a message, as the message shows them (json, like reactions): written in the
-- message's transaction, erased with it.
alter table messages add column files text not null default '';

-- the bytes of deleted file records, waiting to be removed from the file store (a directory or
-- an s3 bucket, outside any transaction). every way a record goes (its message deleted, its
-- conversation deleted, an upload never sent) passes through the trigger, so no object is
-- forgotten when a process stops between the commit and the removal.
create table file_removals (
    file_id     uuid primary key,
    removed_at  timestamptz not null default now()
);
create function files_removed() returns trigger language plpgsql as $$
begin
    insert into file_removals (file_id) values (old.id) on conflict do nothing;
    return null;
end;
$$;
create trigger files_removed after delete on files
    for each row execute function files_removed();
