//! Notifications in the browser: the service worker (installable app, Web
//! Push), this device's permission and subscription, and desktop
//! notifications of live messages while ChatSphere is open but not looked
//! at. Whether a message notifies is [`domain::notify`]'s rule, the same
//! one the server applies to push and email.

#[cfg(feature = "hydrate")]
mod browser;

use std::collections::HashMap;

use domain::notify::{ConversationNotify, NotifyPrefs};
use domain::ConversationKind;
use leptos::prelude::*;
use uuid::Uuid;

/// Whether this device shows notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    /// Not known yet (before hydration).
    Unknown,
    /// It could; it was not asked to (or was turned off here).
    Off,
    /// It does.
    On,
    /// The browser blocks them for this site.
    Blocked,
    /// The browser has no notifications.
    Unsupported,
}

impl DeviceState {
    /// For the page's `data-state` (tests and styles).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Off => "off",
            Self::On => "on",
            Self::Blocked => "blocked",
            Self::Unsupported => "unsupported",
        }
    }
}

/// What the rule needs to know of one conversation (from the sidebar's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationInfo {
    /// Direct, group or room.
    pub kind: ConversationKind,
    /// Its name (the other person's for a direct conversation).
    pub name: String,
    /// The user's own setting for it.
    pub notify: ConversationNotify,
}

/// Notifications of this tab, provided by the app.
#[derive(Clone, Copy)]
pub struct Notifier {
    /// Whether this device shows notifications.
    pub device: RwSignal<DeviceState>,
    /// The user's settings, once loaded (the settings page updates them).
    pub prefs: RwSignal<Option<NotifyPrefs>>,
    /// The user's conversations, as the sidebar last read them.
    pub conversations: StoredValue<HashMap<Uuid, ConversationInfo>>,
    /// Bumped whenever `conversations` is read again (a message in a
    /// conversation the list did not have yet waits for it).
    pub listed: RwSignal<u64>,
}

impl Notifier {
    /// Provides the notifier; in the browser, registers the service worker
    /// and reads this device's state.
    pub fn provide() -> Self {
        let notifier = Self {
            device: RwSignal::new(DeviceState::Unknown),
            prefs: RwSignal::new(None),
            conversations: StoredValue::new(HashMap::new()),
            listed: RwSignal::new(0),
        };
        provide_context(notifier);
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            browser::register_worker();
            notifier.device.set(browser::device_state());
        });
        notifier
    }

    /// Asks the browser for permission and, when the server has push
    /// (`push_key`), subscribes this device. An error says why not.
    pub async fn enable(self, push_key: Option<String>) -> Result<(), String> {
        #[cfg(feature = "hydrate")]
        {
            let state = browser::enable(push_key).await?;
            self.device.set(state);
            Ok(())
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = push_key;
            Ok(())
        }
    }

    /// Stops notifications on this device (its push subscription included).
    pub async fn disable(self) {
        #[cfg(feature = "hydrate")]
        {
            browser::disable().await;
            self.device.set(browser::device_state());
        }
    }
}

/// Desktop notifications of live messages, inside the router (a click
/// opens the conversation at the message). Renders nothing.
#[component]
pub fn DesktopNotifier() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::watch_messages();
}
