-- a client message id makes a send idempotent within its conversation only: the same id
-- used in another conversation is another message, never the first one returned again.
alter table messages drop constraint messages_sender_id_client_msg_id_key;
alter table messages
    add constraint messages_conversation_sender_client_key
    unique (conversation_id, sender_id, client_msg_id);
