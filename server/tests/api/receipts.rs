//! (being written) Receipts, presence and typing over real sockets.
