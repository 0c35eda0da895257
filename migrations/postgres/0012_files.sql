-- files uploaded to conversations (services::files). the bytes live in the file store (a directory
-- or an s3 bucket) under keys made from the id, never the user's name for the file. message_id is
-- null until the file is sent with a message; uploads never attached are removed after a day.
create table files (
    id               uuid primary key,
    conversation_id  uuid not null references conversations (id) on delete cascade,
    uploader_id      uuid not null references users (id),
    message_id       uuid references messages (id) on delete cascade,
    name             text not null,
    content_type     text not null,
    size             bigint not null,
    sha256           text not null,
    width            integer,
    height           integer,
    inline           boolean not null default false,
    created_at       timestamptz not null
);
create index files_message on files (message_id) where message_id is not null;
create index files_uploader on files (uploader_id);
create index files_unattached on files (created_at) where message_id is null;
create index files_conversation on files (conversation_id);
