-- messages by time across every conversation: the admin view counts the messages of the
-- last minutes (per minute) with a range scan instead of reading the whole table.
create index messages_created on messages (created_at);
