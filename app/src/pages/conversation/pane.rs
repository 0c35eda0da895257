//! The message pane's scrolling, as people expect of a chat. It opens at
//! the first unread message, under a "New messages" divider, or at the
//! newest one. While the reader is at the newest message it stays there
//! however the content grows — a long message, an image or a font
//! arriving, "read by" opening, the window or the composer resizing —
//! because the growth itself is watched (a `ResizeObserver`), after
//! layout and before paint. A reader who scrolled up stays where they
//! are, and gets a button back down that counts what arrived meanwhile.

use leptos::html::{Div, Ol};
use leptos::prelude::*;

use crate::i18n::use_texts;

/// How close to the bottom (px) still counts as "at the newest message".
#[cfg(feature = "hydrate")]
const AT_BOTTOM_PX: i32 = 24;
/// How long after a wheel, touch, key or press a scroll counts as the
/// reader's (ms): smooth scrolling and momentum go on after the input.
#[cfg(feature = "hydrate")]
const READER_MOVE_MS: f64 = 1500.0;
/// Space left above the divider when the pane opens at it (px).
#[cfg(feature = "hydrate")]
const ABOVE_DIVIDER_PX: i32 = 8;

/// The pane's elements and where the reader is in it.
#[derive(Clone, Copy)]
pub(super) struct Pane {
    /// The scrolling element.
    pub scroller: NodeRef<Div>,
    /// The list of messages inside it (it grows with its content).
    pub content: NodeRef<Ol>,
    /// The reader is at the newest message: growth keeps it in view.
    pub stuck: RwSignal<bool>,
    /// Messages from others that arrived while the reader was elsewhere.
    pub unseen: RwSignal<u32>,
    /// Older messages are being put above: the distance from the bottom
    /// to keep (the browser's own scroll anchoring is off: re-rendering the
    /// list made it move the view, and the view came loose from the bottom).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    keep_from_bottom: StoredValue<Option<i32>>,
    /// Where the last scroll left the view: only a move up comes loose from
    /// the bottom (a scroll event can arrive after new content, and must not
    /// count as the reader leaving).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    last_top: StoredValue<i32>,
    /// When the reader last moved the view themselves (wheel, touch, keys,
    /// the scroll bar; ms): a move up without them is the browser's (the
    /// pane grew and the view was clamped), and keeps the view stuck.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    moved_at: StoredValue<f64>,
}

impl Pane {
    pub fn new() -> Self {
        Self {
            scroller: NodeRef::new(),
            content: NodeRef::new(),
            stuck: RwSignal::new(true),
            unseen: RwSignal::new(0),
            keep_from_bottom: StoredValue::new(None),
            last_top: StoredValue::new(0),
            moved_at: StoredValue::new(f64::MIN),
        }
    }

    /// Older messages are about to be put above: the view stays on what the
    /// reader sees.
    pub fn before_older(self) {
        #[cfg(feature = "hydrate")]
        if let Some(pane) = self.scroller.get_untracked() {
            self.keep_from_bottom
                .set_value(Some(pane.scroll_height() - pane.scroll_top()));
        }
    }

    /// The reader is moving the view (a wheel, a touch, a key, the scroll
    /// bar).
    pub fn reader_moved(self) {
        #[cfg(feature = "hydrate")]
        self.moved_at.set_value(js_sys::Date::now());
    }

    /// The view scrolled: at the newest message it sticks there; moved up
    /// away from it by the reader, it comes loose.
    pub fn scrolled(self) {
        #[cfg(feature = "hydrate")]
        if let Some(pane) = self.scroller.get_untracked() {
            let top = pane.scroll_top();
            let by_reader = js_sys::Date::now() - self.moved_at.get_value() < READER_MOVE_MS;
            let moved_up = top < self.last_top.get_value() && by_reader;
            self.last_top.set_value(top);
            let from_bottom = pane.scroll_height() - top - pane.client_height();
            let stuck = if from_bottom <= AT_BOTTOM_PX {
                true
            } else if moved_up {
                false
            } else {
                self.stuck.get_untracked()
            };
            if stuck != self.stuck.get_untracked() {
                self.stuck.set(stuck);
            }
            if stuck && self.unseen.get_untracked() > 0 {
                self.unseen.set(0);
            }
        }
    }

    /// Brings the newest message into view, and keeps it there.
    pub fn to_bottom(self) {
        #[cfg(feature = "hydrate")]
        if let Some(pane) = self.scroller.get_untracked() {
            pane.set_scroll_top(pane.scroll_height());
        }
        if !self.stuck.get_untracked() {
            self.stuck.set(true);
        }
        if self.unseen.get_untracked() > 0 {
            self.unseen.set(0);
        }
    }

    /// A message from someone else arrived: counted if the reader is away
    /// from the bottom (at the bottom, it simply comes into view).
    pub fn arrived(self) {
        if !self.stuck.get_untracked() {
            self.unseen.update(|n| *n += 1);
        }
    }

    /// Starts watching the pane (in the browser): positions it once laid
    /// out — at the message it was opened at, at the divider if there is
    /// one, else at the newest message —
    /// then keeps the newest message in view while the reader is there.
    /// `settled` runs after each (to report what is on screen as read).
    pub fn watch(self, settled: impl Fn() + Clone + 'static) {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::closure::Closure;
            use leptos::wasm_bindgen::JsCast;
            use leptos::web_sys::ResizeObserver;

            Effect::new(move |_| {
                let (Some(pane), Some(content)) = (self.scroller.get(), self.content.get()) else {
                    return;
                };
                let opened = std::cell::Cell::new(false);
                let settled = settled.clone();
                // Called once laid out, then on every change of size.
                let callback = Closure::<dyn FnMut()>::new(move || {
                    if !opened.replace(true) {
                        self.open_at_divider_or_bottom();
                    } else if let Some(from_bottom) = self.keep_from_bottom.get_value() {
                        self.keep_from_bottom.set_value(None);
                        if let Some(pane) = self.scroller.get_untracked() {
                            pane.set_scroll_top(pane.scroll_height() - from_bottom);
                        }
                    } else if self.stuck.get_untracked() {
                        self.to_bottom();
                    }
                    settled();
                });
                let Ok(observer) = ResizeObserver::new(callback.as_ref().unchecked_ref()) else {
                    return;
                };
                observer.observe(&pane);
                observer.observe(&content);
                let kept = StoredValue::new_local(Some((observer, callback)));
                on_cleanup(move || {
                    kept.try_update_value(|kept| {
                        if let Some((observer, _callback)) = kept.take() {
                            observer.disconnect();
                        }
                    });
                });
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = settled;
    }

    #[cfg(feature = "hydrate")]
    fn open_at_divider_or_bottom(self) {
        let (Some(pane), Some(content)) =
            (self.scroller.get_untracked(), self.content.get_untracked())
        else {
            return;
        };
        // The message the page was opened at, else the unread divider.
        let target = content.query_selector(".message.target").ok().flatten();
        if let Some(target) = target {
            super::reply::show(&target);
            let top = pane.scroll_top();
            self.last_top.set_value(top);
            let at_bottom = pane.scroll_height() - top - pane.client_height() <= AT_BOTTOM_PX;
            self.stuck.set(at_bottom);
            return;
        }
        let divider = content.query_selector(".unread-divider").ok().flatten();
        match divider {
            Some(divider) => {
                let offset = divider.get_bounding_client_rect().top()
                    - pane.get_bounding_client_rect().top();
                let top = pane.scroll_top() + offset as i32 - ABOVE_DIVIDER_PX;
                pane.set_scroll_top(top.max(0));
                let top = pane.scroll_top();
                self.last_top.set_value(top);
                let at_bottom = pane.scroll_height() - top - pane.client_height() <= AT_BOTTOM_PX;
                self.stuck.set(at_bottom);
            }
            None => self.to_bottom(),
        }
    }
}

/// The button back to the newest message, shown while the reader is away
/// from it.
#[component]
pub(super) fn JumpToLatest(pane: Pane) -> impl IntoView {
    let t = use_texts().chat();
    let label = move || match pane.unseen.get() {
        0 => t.jump_to_latest.to_owned(),
        n => t.new_below.replace("{n}", &n.to_string()),
    };
    view! {
        <button
            class="jump-latest"
            type="button"
            hidden=move || pane.stuck.get()
            data-unseen=move || pane.unseen.get().to_string()
            on:click=move |_| {
                pane.to_bottom();
                // The button hides itself: keyboard focus goes to the messages.
                if let Some(scroller) = pane.scroller.get_untracked() {
                    let _ = scroller.focus();
                }
            }
        >
            {label}
            {move || (pane.unseen.get() > 0).then(|| view! { <span aria-hidden="true">" ↓"</span> })}
        </button>
    }
}

/// The divider's place: the first message after the reader's read
/// position that someone else wrote (one's own messages are read).
pub(super) fn first_unread(
    messages: &[domain::ChatMessage],
    read_seq: i64,
    me: uuid::Uuid,
) -> Option<i64> {
    messages
        .iter()
        .find(|m| m.seq > read_seq && m.sender_id != me)
        .map(|m| m.seq)
}
