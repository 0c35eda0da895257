//! Files in conversations: where their bytes live ([`storage`]) and what
//! they are ([`content`]).

pub mod content;
pub mod storage;
