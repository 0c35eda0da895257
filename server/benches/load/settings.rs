//! What one run of the load generator does, read from the environment, with
//! defaults that finish each scenario within about a minute and hard caps
//! that keep any setting bounded in count and time.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// A scenario of the load generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Many idle authenticated connections: memory, connect rate, idle CPU.
    Idle,
    /// One room, many members, some sending: live deliveries.
    Fanout,
    /// Many senders into one room at a total rate: acknowledged sends.
    Hot,
    /// Users who are members of many conversations connecting.
    Many,
    /// Many users in many small groups: messages, read receipts, typing.
    Team,
}

impl Scenario {
    /// Every scenario, in the order a run takes them.
    pub const ALL: [Scenario; 5] = [Self::Idle, Self::Fanout, Self::Hot, Self::Many, Self::Team];

    /// The name used in `LOAD_SCENARIOS` and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Fanout => "fanout",
            Self::Hot => "hot",
            Self::Many => "many",
            Self::Team => "team",
        }
    }
}

/// What the server processes run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// SQLite and the in-process bus, one process.
    Sqlite,
    /// PostgreSQL + Redis (`TEST_DATABASE_URL`, `TEST_REDIS_URL`), several
    /// processes with the clients split between them.
    Postgres,
}

/// Sizes of the `idle` scenario.
#[derive(Debug, Clone, Copy)]
pub struct IdleSettings {
    /// `LOAD_IDLE_CONNECTIONS` (2,000; at most 15,000).
    pub connections: usize,
    /// `LOAD_IDLE_PER_USER`: connections per user (16, the server's default
    /// limit per user and process).
    pub per_user: usize,
    /// `LOAD_CONNECT_IN_FLIGHT`: connects under way at once (16).
    pub in_flight: usize,
    /// `LOAD_IDLE_SECONDS`: how long the idle CPU is measured (10).
    pub seconds: Duration,
}

/// How the senders of a one-room scenario send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Over their WebSocket: the senders are the first members connected,
    /// and receive every message too.
    Ws,
    /// Over the REST API (`POST /api/v1/conversations/{id}/messages`): the
    /// senders are members of the room but not connected, so they receive
    /// nothing; only the connected members do.
    Rest,
}

/// Sizes of a one-room scenario (`fanout` or `hot`).
#[derive(Debug, Clone, Copy)]
pub struct RoomSettings {
    /// Members connected (one connection each).
    pub members: usize,
    /// How many send: the first `senders` members over their WebSocket,
    /// or as many other members over REST.
    pub senders: usize,
    /// How the senders send.
    pub via: Via,
    /// Messages per second per sender.
    pub rate_per_sender: f64,
    /// How long the senders send.
    pub seconds: Duration,
}

impl RoomSettings {
    /// Messages each sender sends over the run.
    pub fn messages_per_sender(&self) -> usize {
        (self.rate_per_sender * self.seconds.as_secs_f64())
            .round()
            .max(1.0) as usize
    }
}

/// Sizes of the `many` scenario.
#[derive(Debug, Clone, Copy)]
pub struct ManySettings {
    /// `LOAD_MANY_CONVERSATIONS`: groups every such user is in (500).
    pub conversations: usize,
    /// `LOAD_MANY_USERS`: such users, each connecting once (20).
    pub users: usize,
}

/// Sizes of the `team` scenario.
#[derive(Debug, Clone, Copy)]
pub struct TeamSettings {
    /// `LOAD_TEAM_USERS`: users, one connection each (1,000; at most
    /// 5,000; a multiple of the group size).
    pub users: usize,
    /// `LOAD_TEAM_GROUPS_PER_USER`: groups every user is in (20; at most 100).
    pub groups_per_user: usize,
    /// `LOAD_TEAM_GROUP_SIZE`: members of every group (8; 2 to 256).
    pub group_size: usize,
    /// `LOAD_TEAM_RATE`: messages per second over all groups (1,000; at most 20,000).
    pub rate: f64,
    /// `LOAD_TEAM_SECONDS`: how long messages are sent (20; at most 120).
    pub seconds: Duration,
    /// `LOAD_TEAM_TYPING`: percent of messages preceded by a `typing` notice (50).
    pub typing_percent: u32,
    /// `LOAD_TEAM_READS`: whether receivers send a `read` per message (1) or not (0).
    pub reads: bool,
}

impl TeamSettings {
    /// Groups in all: every user in `groups_per_user` groups of `group_size`.
    pub fn groups(&self) -> usize {
        self.users * self.groups_per_user / self.group_size
    }

    /// Messages over the run.
    pub fn messages(&self) -> usize {
        (self.rate * self.seconds.as_secs_f64()).round().max(1.0) as usize
    }
}

/// Everything a run does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `LOAD_SCENARIOS` (default all: `idle,fanout,hot,many,team`).
    pub scenarios: Vec<Scenario>,
    /// `LOAD_BACKENDS` (default `sqlite`, plus `pg` when `TEST_DATABASE_URL`
    /// and `TEST_REDIS_URL` are set).
    pub backends: Vec<BackendKind>,
    /// `LOAD_PG_PROCESSES`: server processes on PostgreSQL + Redis (2).
    pub pg_processes: usize,
    /// `LOAD_SERVER_BIN`: the server binary to run instead of this build's.
    pub server_bin: Option<PathBuf>,
    /// `LOAD_HOG`: busy processes competing for the CPU while measuring (0).
    pub hog: usize,
    /// `LOAD_DRAIN`: seconds deliveries and acks may take after the last send (10).
    pub drain: Duration,
    /// `LOAD_BODY_BYTES`: length of each message body (64).
    pub body_bytes: usize,
    /// The `idle` scenario.
    pub idle: IdleSettings,
    /// The `fanout` scenario: `LOAD_FANOUT_MEMBERS` (200), `LOAD_FANOUT_SENDERS`
    /// (100), `LOAD_FANOUT_RATE` (messages per second per sender, 1),
    /// `LOAD_FANOUT_SECONDS` (20).
    pub fanout: RoomSettings,
    /// The `hot` scenario: `LOAD_HOT_SENDERS` (200, all members),
    /// `LOAD_HOT_RATE` (messages per second over all senders, 1,000),
    /// `LOAD_HOT_SECONDS` (20); `LOAD_HOT_VIA` (`ws`, or `rest`: the
    /// senders post over REST and receive nothing), `LOAD_HOT_LISTENERS`
    /// (members connected that only read: 0 with `ws`, 2 with `rest`).
    pub hot: RoomSettings,
    /// The `many` scenario.
    pub many: ManySettings,
    /// The `team` scenario.
    pub team: TeamSettings,
}

impl Settings {
    /// Reads the settings; panics with the variable's name on a bad value.
    pub fn from_env() -> Self {
        let scenarios = match std::env::var("LOAD_SCENARIOS") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|name| {
                    let name = name.trim();
                    *Scenario::ALL
                        .iter()
                        .find(|s| s.name() == name)
                        .unwrap_or_else(|| panic!("LOAD_SCENARIOS: no scenario {name:?}"))
                })
                .collect(),
            _ => Scenario::ALL.to_vec(),
        };
        let pg_configured =
            std::env::var("TEST_DATABASE_URL").is_ok() && std::env::var("TEST_REDIS_URL").is_ok();
        let backends = match std::env::var("LOAD_BACKENDS") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|name| match name.trim() {
                    "sqlite" => BackendKind::Sqlite,
                    "pg" | "postgres" => BackendKind::Postgres,
                    other => panic!("LOAD_BACKENDS: no backend {other:?} (sqlite, pg)"),
                })
                .collect(),
            _ if pg_configured => vec![BackendKind::Sqlite, BackendKind::Postgres],
            _ => vec![BackendKind::Sqlite],
        };
        let fanout_members = number("LOAD_FANOUT_MEMBERS", 200, 1, 5_000);
        let hot_senders = number("LOAD_HOT_SENDERS", 200, 1, 5_000);
        let hot_rate: f64 = number("LOAD_HOT_RATE", 1_000.0, 1.0, 100_000.0);
        let hot_via = match std::env::var("LOAD_HOT_VIA").as_deref().map(str::trim) {
            Err(_) | Ok("" | "ws") => Via::Ws,
            Ok("rest") => Via::Rest,
            Ok(other) => panic!("LOAD_HOT_VIA: {other:?} is neither ws nor rest"),
        };
        let hot_listeners = match hot_via {
            Via::Ws => number("LOAD_HOT_LISTENERS", 0, 0, 1_000),
            Via::Rest => number("LOAD_HOT_LISTENERS", 2, 1, 1_000),
        };
        Self {
            scenarios,
            backends,
            pg_processes: number("LOAD_PG_PROCESSES", 2, 1, 4),
            server_bin: std::env::var_os("LOAD_SERVER_BIN").map(PathBuf::from),
            hog: number("LOAD_HOG", 0, 0, 16),
            drain: seconds("LOAD_DRAIN", 10, 60),
            body_bytes: number("LOAD_BODY_BYTES", 64, 16, 4_000),
            idle: IdleSettings {
                connections: number("LOAD_IDLE_CONNECTIONS", 2_000, 1, 15_000),
                per_user: number("LOAD_IDLE_PER_USER", 16, 1, 10_000),
                in_flight: number("LOAD_CONNECT_IN_FLIGHT", 16, 1, 256),
                seconds: seconds("LOAD_IDLE_SECONDS", 10, 120),
            },
            fanout: RoomSettings {
                members: fanout_members,
                senders: number("LOAD_FANOUT_SENDERS", 100, 1, fanout_members),
                via: Via::Ws,
                rate_per_sender: number("LOAD_FANOUT_RATE", 1.0, 0.1, 1_000.0),
                seconds: seconds("LOAD_FANOUT_SECONDS", 20, 120),
            },
            hot: RoomSettings {
                members: match hot_via {
                    Via::Ws => hot_senders + hot_listeners,
                    Via::Rest => hot_listeners,
                },
                senders: hot_senders,
                via: hot_via,
                rate_per_sender: hot_rate / hot_senders as f64,
                seconds: seconds("LOAD_HOT_SECONDS", 20, 120),
            },
            many: ManySettings {
                conversations: number("LOAD_MANY_CONVERSATIONS", 500, 1, 2_000),
                // Every such user is in every group: at most 256 members each.
                users: number("LOAD_MANY_USERS", 20, 1, 256),
            },
            team: team_settings(),
        }
    }
}

/// The `team` scenario's settings; panics unless the users split evenly
/// into groups.
fn team_settings() -> TeamSettings {
    let group_size: usize = number("LOAD_TEAM_GROUP_SIZE", 8, 2, 256);
    let users = number("LOAD_TEAM_USERS", 1_000, group_size, 5_000);
    assert!(
        users.is_multiple_of(group_size),
        "LOAD_TEAM_USERS={users} must be a multiple of LOAD_TEAM_GROUP_SIZE={group_size}"
    );
    TeamSettings {
        users,
        groups_per_user: number("LOAD_TEAM_GROUPS_PER_USER", 20, 1, 100),
        group_size,
        rate: number("LOAD_TEAM_RATE", 1_000.0, 1.0, 20_000.0),
        seconds: seconds("LOAD_TEAM_SECONDS", 20, 120),
        typing_percent: number("LOAD_TEAM_TYPING", 50, 0, 100),
        reads: number("LOAD_TEAM_READS", 1u8, 0, 1) == 1,
    }
}

/// `name` parsed, `default` when unset; panics when out of `min..=max`.
fn number<T>(name: &str, default: T, min: T, max: T) -> T
where
    T: FromStr + PartialOrd + Copy + std::fmt::Display,
{
    let Ok(raw) = std::env::var(name) else {
        return default;
    };
    match raw.trim().parse::<T>() {
        Ok(value) if value >= min && value <= max => value,
        _ => panic!("{name}={raw:?}: expected a number from {min} to {max}"),
    }
}

/// `name` in whole seconds, `default` when unset, at most `max`.
fn seconds(name: &str, default: u64, max: u64) -> Duration {
    Duration::from_secs(number(name, default, 1, max))
}
