//! ChatSphere's service layer and the two ports beneath it.
//!
//! # Layout
//! - [`store`] — the [`Store`] trait (the source of truth) with its SQLite and
//!   PostgreSQL implementations, chosen by the database URL's scheme.
//! - [`bus`] — the [`Bus`] trait (a fast publish/subscribe signal between
//!   connections and server processes) with in-process and Redis implementations.
//! - [`auth`] — password hashing and policy, access and refresh tokens.
//! - [`kv`] — expiring shared counters (in-process or Redis).
//! - [`rooms`] — [`RoomService`], the rules of the public room directory.
//! - [`conversations`] — [`ConversationService`]: direct messages, groups,
//!   rooms, messages and who may do what.
//! - [`events`] — what is pushed to clients, and its bus topics.
//! - [`connections`] — counts live real-time connections for `/health`.
//! - [`members`] — cached membership lookups, invalidated on every process.
//! - [`presence`] — who is online, across server processes, and the
//!   announcements when that changes.
//! - [`receipts`] — [`ReceiptService`]: delivered/read positions and typing.
//! - [`audit`] — [`AuditService`]: the audit log of security events and activity.
//! - [`admin`] — [`AdminService`]: installation admins, disabled accounts,
//!   account listings and counts.
//! - [`ratelimit`] — request budgets (GCRA), in-process or shared through Redis.
//!
//! Server functions, REST handlers and the WebSocket gateway all call the
//! services held by [`Services`]; none of them touches SQL or Redis.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod bus;
pub mod cache;
pub mod connections;
pub mod conversations;
pub mod egress;
pub mod error;
pub mod events;
pub mod export;
pub mod files;
pub mod integrations;
pub mod kv;
pub mod members;
pub mod notify;
pub mod presence;
pub mod profiles;
pub mod ratelimit;
pub mod receipts;
pub mod rooms;
pub mod search;
pub mod store;

use std::sync::Arc;

pub use admin::AdminService;
pub use audit::AuditService;
pub use auth::AuthService;
pub use bus::{Bus, BusError};
pub use connections::ConnectionTracker;
pub use conversations::ConversationService;
pub use error::ServiceError;
pub use receipts::ReceiptService;
pub use rooms::RoomService;
pub use store::{Store, StoreError};

/// Everything a request handler needs, cheap to clone (all `Arc`s inside).
#[derive(Clone)]
pub struct Services {
    /// The database behind every service.
    pub store: Arc<dyn Store>,
    /// The publish/subscribe bus shared by every server process.
    pub bus: Arc<dyn Bus>,
    /// Accounts and sessions.
    pub auth: AuthService,
    /// Sign-in through external identity providers.
    pub oauth: auth::OAuthService,
    /// The public room directory.
    pub rooms: RoomService,
    /// Conversations and messages.
    pub chat: ConversationService,
    /// Delivered and read receipts, typing.
    pub receipts: ReceiptService,
    /// Cached membership lookups, invalidated across processes
    /// ([`members::Members::listen`] turns caching on).
    pub members: members::Members,
    /// Cached public profiles, invalidated across processes
    /// ([`profiles::Profiles::listen`] turns caching on).
    pub profiles: profiles::Profiles,
    /// Live WebSocket connections of this process.
    pub connections: ConnectionTracker,
    /// Who is online, across processes.
    pub presence: presence::Presence,
    /// The audit log.
    pub audit: AuditService,
    /// Message, people and conversation search.
    pub search: search::SearchService,
    /// Admins, disabled accounts and the admin view's listings.
    pub admin: AdminService,
    /// Files: uploads and downloads.
    pub files: files::FileService,
    /// Notification settings, Web Push and missed-message email.
    pub notify: notify::NotifyService,
    /// Incoming and outgoing webhooks.
    pub webhooks: integrations::WebhookService,
    /// Data exports.
    pub export: export::ExportService,
}

impl Services {
    /// Wires the services over a store, a bus and shared counters (Redis or
    /// in-process); access tokens are signed with `tokens`.
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        kv: kv::SharedKv,
        tokens: auth::AccessTokens,
        policy: auth::SessionPolicy,
        chat_policy: conversations::ChatPolicy,
    ) -> Self {
        let throttle = auth::LoginThrottle::new(kv.clone(), auth::ThrottlePolicy::default());
        let hasher = auth::PasswordHasher::new();
        let members = members::Members::new(store.clone(), bus.clone());
        let notices = notify::Notices::default();
        let profiles = profiles::Profiles::new(store.clone(), bus.clone());
        let chat = ConversationService::new(
            store.clone(),
            members.clone(),
            profiles.clone(),
            bus.clone(),
            kv.clone(),
            chat_policy,
            notices.clone(),
        );
        let webhooks = integrations::WebhookService::new(
            store.clone(),
            members.clone(),
            chat.clone(),
            kv.clone(),
            bus.clone(),
            &notices,
        );
        let auth = AuthService::new(store.clone(), hasher, tokens, policy, throttle, kv)
            .with_chat(chat.clone())
            .with_profiles(profiles.clone())
            .with_bus(bus.clone());
        let audit = AuditService::new(store.clone());
        let admin = AdminService::new(
            store.clone(),
            bus.clone(),
            auth.clone(),
            audit.clone(),
            members.clone(),
        );
        let presence = presence::Presence::local(
            store.clone(),
            bus.clone(),
            presence::PresenceConfig::default(),
        );
        Self {
            oauth: auth::OAuthService::new(Vec::new(), "", store.clone(), auth.clone()),
            auth,
            rooms: RoomService::new(store.clone(), presence.clone()),
            search: search::SearchService::new(store.clone(), chat.clone()),
            files: files::FileService::new(
                store.clone(),
                Arc::new(files::storage::ObjectFiles::memory()),
                chat.clone(),
                files::FilesConfig::default(),
            ),
            chat,
            receipts: ReceiptService::new(
                store.clone(),
                members.clone(),
                profiles.clone(),
                bus.clone(),
                notices.clone(),
            ),
            notify: notify::NotifyService::new(
                store.clone(),
                presence.clone(),
                notices,
                notify::NotifyConfig::default(),
            ),
            webhooks,
            export: export::ExportService::new(store.clone(), admin.clone()),
            members,
            profiles,
            connections: ConnectionTracker::default(),
            presence,
            audit,
            admin,
            store,
            bus,
        }
    }

    /// Keeps files in `store`, within `config`.
    pub fn with_files(
        mut self,
        store: Arc<dyn files::storage::FileStore>,
        config: files::FilesConfig,
    ) -> Self {
        self.files = files::FileService::new(self.store.clone(), store, self.chat.clone(), config);
        self
    }

    /// Uses `presence` (shared through Redis, or with other timings).
    pub fn with_presence(mut self, presence: presence::Presence) -> Self {
        self.rooms = RoomService::new(self.store.clone(), presence.clone());
        self.notify = self.notify.with_presence(presence.clone());
        self.presence = presence;
        self
    }

    /// Delivers notifications as `config` says (started by
    /// [`notify::NotifyService::start`]).
    pub fn with_notify(mut self, config: notify::NotifyConfig) -> Self {
        self.notify = self.notify.with_config(config);
        self
    }

    /// Sends outgoing webhooks as `config` says (started by
    /// [`integrations::WebhookService::start`]).
    pub fn with_outgoing(mut self, config: integrations::OutgoingConfig) -> Self {
        self.webhooks = self.webhooks.with_outgoing(config);
        self
    }

    /// Enables sign-in through `providers`; `public_url` is where browsers
    /// reach this server (redirect URIs are built from it).
    pub fn with_oauth(mut self, providers: Vec<auth::ProviderConfig>, public_url: &str) -> Self {
        self.oauth =
            auth::OAuthService::new(providers, public_url, self.store.clone(), self.auth.clone());
        self
    }
}
