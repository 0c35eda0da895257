//! (being written) The chaos test: kills server processes while clients send.
