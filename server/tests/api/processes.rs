//! (being written) Server binaries started as child processes.
