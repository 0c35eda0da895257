-- no-transaction
-- a search reads the searcher's newest messages first, conversation by conversation, merged in id
-- order (uuid v7: time order), and keeps those that match: a frequent word fills a page from a few
-- hundred messages instead of the gin index's whole posting list (services/src/store/postgres/search/matches.rs).
-- built concurrently: writes to messages go on while it is built (a large table takes minutes).
create index concurrently if not exists messages_conversation_id on messages (conversation_id, id);
