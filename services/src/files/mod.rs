//! Files in conversations: where their bytes live ([`storage`]), what they
//! are ([`content`]) and who may upload and download them ([`FileService`]).

pub mod content;
mod service;
pub mod storage;
mod upload;

pub use service::{Download, FileService, FilesConfig, Variant, UNATTACHED_FOR};
