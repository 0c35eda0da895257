//! Files on their way up from this tab: chosen with the composer's button,
//! dropped on the conversation or pasted into the box. Each starts
//! uploading at once (`POST /api/v1/conversations/{id}/files`, with its
//! progress) and waits in the composer; the message that takes them is
//! shown at once and sent when they are all up (see the outbox). Any of
//! them can be cancelled or taken off until then.

use domain::files::Attachment;
use leptos::prelude::*;
use uuid::Uuid;

use crate::AppError;

/// Where an upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadState {
    /// Going up: the share sent so far, in percent.
    Sending(u8),
    /// Stored by the server.
    Done(Attachment),
    /// Refused or broken off (the reason).
    Failed(AppError),
    /// Cancelled by the person.
    Cancelled,
}

/// One file being uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upload {
    /// This tab's number for it.
    pub key: u64,
    /// Its name and size, to show meanwhile.
    pub name: StoredValue<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Where it is.
    pub state: RwSignal<UploadState>,
}

impl Upload {
    /// Whether it is no longer going up.
    pub fn settled(&self) -> bool {
        !matches!(self.state.get_untracked(), UploadState::Sending(_))
    }
}

/// The files waiting in the composer of one conversation.
#[derive(Clone, Copy)]
pub struct Tray {
    /// Uploads go there (read by the browser's side only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    conversation_id: Uuid,
    /// In the order they were added.
    pub items: RwSignal<Vec<Upload>>,
    /// Told when any upload settles (the outbox sends what waited for it).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    settled: Callback<()>,
}

impl Tray {
    /// An empty tray; `settled` runs each time an upload ends.
    pub fn new(conversation_id: Uuid, settled: Callback<()>) -> Self {
        Self {
            conversation_id,
            items: RwSignal::new(Vec::new()),
            settled,
        }
    }

    /// Takes every file off the tray (into a message).
    pub fn take(self) -> Vec<Upload> {
        let mut taken = Vec::new();
        self.items.update(|items| taken = std::mem::take(items));
        taken
    }

    /// Stops every upload still going up from this tab (the conversation
    /// is left: nothing would send them).
    pub fn abort_all(self) {
        #[cfg(feature = "hydrate")]
        browser::abort_all();
    }

    /// Cancels an upload (or forgets a finished one) and takes it off.
    pub fn remove(self, upload: Upload) {
        cancel(upload);
        self.items
            .update(|items| items.retain(|u| u.key != upload.key));
    }
}

/// Stops `upload` if it is still going up.
pub fn cancel(upload: Upload) {
    if upload.settled() {
        return;
    }
    #[cfg(feature = "hydrate")]
    browser::abort(upload.key);
    upload.state.set(UploadState::Cancelled);
}

#[cfg(feature = "hydrate")]
pub use browser::add_files;

#[cfg(feature = "hydrate")]
mod browser {
    //! The uploads themselves: one `XMLHttpRequest` each (`fetch` cannot
    //! report an upload's progress), kept here to be aborted.

    use std::cell::RefCell;
    use std::collections::HashMap;

    use leptos::prelude::*;
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;
    use web_sys::{File, FileList, ProgressEvent, XmlHttpRequest};

    use super::{Tray, Upload, UploadState};
    use crate::AppError;

    thread_local! {
        static RUNNING: RefCell<HashMap<u64, XmlHttpRequest>> = RefCell::new(HashMap::new());
        static NEXT_KEY: RefCell<u64> = const { RefCell::new(0) };
    }

    pub(super) fn abort_all() {
        let running: Vec<XmlHttpRequest> =
            RUNNING.with(|r| r.borrow_mut().drain().map(|(_, xhr)| xhr).collect());
        for xhr in running {
            let _ = xhr.abort();
        }
    }

    pub(super) fn abort(key: u64) {
        if let Some(xhr) = RUNNING.with(|r| r.borrow_mut().remove(&key)) {
            let _ = xhr.abort();
        }
    }

    /// Starts uploading every file of `files` into `tray`.
    pub fn add_files(tray: Tray, files: &FileList) {
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                start(tray, file);
            }
        }
    }

    fn start(tray: Tray, file: File) {
        let key = NEXT_KEY.with(|k| {
            *k.borrow_mut() += 1;
            *k.borrow()
        });
        let upload = Upload {
            key,
            name: StoredValue::new(file.name()),
            size: file.size() as u64,
            state: RwSignal::new(UploadState::Sending(0)),
        };
        tray.items.update(|items| items.push(upload));
        let Ok(xhr) = XmlHttpRequest::new() else {
            upload.state.set(UploadState::Failed(AppError::Internal));
            return;
        };
        let name = js_sys::encode_uri_component(&file.name());
        let url = format!(
            "/api/v1/conversations/{}/files?name={}",
            tray.conversation_id,
            String::from(name)
        );
        if xhr.open("POST", &url).is_err() {
            upload.state.set(UploadState::Failed(AppError::Internal));
            return;
        }
        let _ = xhr.set_request_header("Accept", "application/json");
        let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |ev: ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                let share = (ev.loaded() / ev.total() * 100.0).clamp(0.0, 99.0) as u8;
                upload.state.set(UploadState::Sending(share));
            }
        });
        if let Ok(target) = xhr.upload() {
            target.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        }
        let settled = tray.settled;
        let request = xhr.clone();
        let done = Closure::<dyn FnMut()>::new(move || {
            RUNNING.with(|r| r.borrow_mut().remove(&key));
            if upload.state.get_untracked() == UploadState::Cancelled {
                return;
            }
            // The page may be gone (another conversation opened): then
            // nothing is left to tell.
            if upload.state.try_set(outcome(&request)).is_none() {
                let _ = settled.try_run(());
            }
        });
        // `loadend` comes after a load, an error or an abort alike.
        xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
        // The closures live as long as the page (one small pair a file).
        progress.forget();
        done.forget();
        RUNNING.with(|r| r.borrow_mut().insert(key, xhr.clone()));
        if xhr.send_with_opt_blob(Some(&file)).is_err() {
            RUNNING.with(|r| r.borrow_mut().remove(&key));
            upload.state.set(UploadState::Failed(AppError::Network));
            let _ = settled.try_run(());
        }
    }

    /// What a finished request means: the stored file, or why not (the
    /// problem's `detail`, translated like a server function's refusal).
    fn outcome(xhr: &XmlHttpRequest) -> UploadState {
        let status = xhr.status().unwrap_or(0);
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        if status == 201 {
            return match serde_json::from_str(&text) {
                Ok(file) => UploadState::Done(file),
                Err(_) => UploadState::Failed(AppError::Internal),
            };
        }
        let detail = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned));
        UploadState::Failed(match (status, detail) {
            (0, _) => AppError::Network,
            (404, _) => AppError::NotFound("conversation".into()),
            (429, _) => AppError::TooManyRequests(1),
            (400 | 413 | 415 | 422, Some(detail)) => AppError::Invalid(detail),
            _ => AppError::Internal,
        })
    }
}
