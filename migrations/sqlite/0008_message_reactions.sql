-- reactions live with their message, as JSON: [{"emoji": "👍", "users": [{"id": …, "name": …}]}],
-- emoji in the order first used, users in the order they reacted (empty text: none). they are
-- changed inside a message change (the conversation's next change number), so they reach every
-- client, and every resuming one, the way edits do; a deletion empties them with the body.
alter table messages add column reactions text not null default '';
