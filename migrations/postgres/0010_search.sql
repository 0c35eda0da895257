-- message search. the server tokenizes each message (services::search::tokens: stems of words,
-- one token per chinese character) and stores the result as a tsvector literal, so nothing
-- depends on postgresql's text search configurations; a gin index finds the matches. a deleted
-- message's vector is emptied. search is null while a message stored before this migration
-- waits to be indexed: the server fills those in batches, oldest first, in the background
-- (resumable: the nulls are the queue; the partial index finds them).
-- the gin index holds the conversation beside the tokens (btree_gin, a trusted extension shipped
-- with postgresql): a search reads only the matches in the searcher's conversations, not every
-- match of a frequent word. no weights are used (a weight is not in the index: matching one
-- would read every candidate row); words as written are lexemes marked with '~'.
create extension if not exists btree_gin;
alter table messages add column search tsvector;
alter table messages add column has_link boolean not null default false;
create index messages_search on messages using gin (conversation_id, search);
create index messages_search_pending on messages (id) where search is null and deleted_at is null;
