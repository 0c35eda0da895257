//! Counting live real-time connections of this process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts open connections; each connection holds a [`ConnectionGuard`] for
/// its lifetime, so the count cannot drift when a connection task ends in any
/// way (close, error, panic).
#[derive(Clone, Default, Debug)]
pub struct ConnectionTracker {
    open: Arc<AtomicUsize>,
}

/// Keeps one connection counted until dropped.
#[derive(Debug)]
pub struct ConnectionGuard {
    open: Arc<AtomicUsize>,
}

impl ConnectionTracker {
    /// Counts a new connection until the returned guard is dropped.
    pub fn open(&self) -> ConnectionGuard {
        self.open.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard {
            open: self.open.clone(),
        }
    }

    /// Connections open right now.
    pub fn active(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_count_while_alive() {
        let tracker = ConnectionTracker::default();
        assert_eq!(tracker.active(), 0);
        let a = tracker.open();
        let b = tracker.clone().open();
        assert_eq!(tracker.active(), 2);
        drop(a);
        assert_eq!(tracker.active(), 1);
        drop(b);
        assert_eq!(tracker.active(), 0);
    }
}
