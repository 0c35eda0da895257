//! Presence shared between processes through Redis.
//!
//! Two kinds of keys, both sorted sets scored by expiry (milliseconds):
//! - `<prefix>presence`: every online user, scored by the latest expiry of
//!   their entries (`GET /users/online` reads it in one command);
//! - `<prefix>presence:<user>`: the processes that have the user connected.
//!
//! Each script changes both atomically and says whether the user is online
//! anywhere, so exactly one process announces each transition: the one that
//! added the first entry, removed the last one, or swept an expired user
//! (whose process crashed and stopped refreshing).

use std::collections::HashSet;
use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use redis::Script;
use uuid::Uuid;

use crate::BusError;

/// Adds or refreshes `process`'s entry for a user; returns 1 if the user
/// was already online (on any process) before.
static UP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local before = redis.call('ZSCORE', KEYS[1], ARGV[1])
        local was = before and tonumber(before) > tonumber(ARGV[4])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
        local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        redis.call('PEXPIREAT', KEYS[2], top[2])
        redis.call('ZADD', KEYS[1], top[2], ARGV[1])
        if was then return 1 else return 0 end
        ",
    )
});

/// Removes `process`'s entry (and expired ones); returns 1 if the user is
/// still online on another process.
static DOWN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        redis.call('ZREM', KEYS[2], ARGV[2])
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
        local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        if #top == 0 then
            redis.call('ZREM', KEYS[1], ARGV[1])
            redis.call('DEL', KEYS[2])
            return 0
        end
        redis.call('ZADD', KEYS[1], top[2], ARGV[1])
        return 1
        ",
    )
});

/// Takes a user whose entries all expired offline; returns 1 for the one
/// caller that did it.
static SWEEP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
        local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        if #top > 0 then
            redis.call('ZADD', KEYS[1], top[2], ARGV[1])
            return 0
        end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[2])
        return 1
        ",
    )
});

/// This process's view of the shared presence keys.
#[derive(Clone)]
pub(super) struct RedisPresence {
    conn: ConnectionManager,
    prefix: String,
    process: String,
}

impl RedisPresence {
    pub(super) async fn connect(url: &str, prefix: &str) -> Result<Self, BusError> {
        let conn = ConnectionManager::new(redis::Client::open(url)?).await?;
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            process: Uuid::now_v7().to_string(),
        })
    }

    fn all_key(&self) -> String {
        format!("{}presence", self.prefix)
    }

    fn user_key(&self, user: Uuid) -> String {
        format!("{}presence:{user}", self.prefix)
    }

    /// Adds or refreshes this process's entry; whether the user was
    /// online before.
    pub(super) async fn up(&self, user: Uuid, now: u64, expiry: u64) -> Result<bool, BusError> {
        let was: i64 = UP
            .key(self.all_key())
            .key(self.user_key(user))
            .arg(user.to_string())
            .arg(&self.process)
            .arg(expiry)
            .arg(now)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(was == 1)
    }

    /// Removes this process's entry; whether the user is still online elsewhere.
    pub(super) async fn down(&self, user: Uuid, now: u64) -> Result<bool, BusError> {
        let still: i64 = DOWN
            .key(self.all_key())
            .key(self.user_key(user))
            .arg(user.to_string())
            .arg(&self.process)
            .arg(now)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(still == 1)
    }

    /// Users whose entries all expired, taken offline by this call (each
    /// by exactly one caller across processes).
    pub(super) async fn sweep(&self, now: u64) -> Result<Vec<Uuid>, BusError> {
        let expired: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.all_key())
            .arg("-inf")
            .arg(now)
            .query_async(&mut self.conn.clone())
            .await?;
        let mut gone = Vec::new();
        for user in expired.iter().filter_map(|u| u.parse::<Uuid>().ok()) {
            let taken: i64 = SWEEP
                .key(self.all_key())
                .key(self.user_key(user))
                .arg(user.to_string())
                .arg(now)
                .invoke_async(&mut self.conn.clone())
                .await?;
            if taken == 1 {
                gone.push(user);
            }
        }
        Ok(gone)
    }

    /// Everyone online on any process.
    pub(super) async fn online(&self, now: u64) -> Result<HashSet<Uuid>, BusError> {
        let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.all_key())
            .arg(now)
            .arg("+inf")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(members.iter().filter_map(|m| m.parse().ok()).collect())
    }

    /// Which of `users` are online on any process.
    pub(super) async fn online_among(
        &self,
        users: &[Uuid],
        now: u64,
    ) -> Result<HashSet<Uuid>, BusError> {
        if users.is_empty() {
            return Ok(HashSet::new());
        }
        let mut cmd = redis::cmd("ZMSCORE");
        cmd.arg(self.all_key());
        for user in users {
            cmd.arg(user.to_string());
        }
        let scores: Vec<Option<f64>> = cmd.query_async(&mut self.conn.clone()).await?;
        Ok(users
            .iter()
            .zip(scores)
            .filter(|(_, score)| score.is_some_and(|s| s > now as f64))
            .map(|(user, _)| *user)
            .collect())
    }
}
