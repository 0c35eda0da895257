//! The server processes of a run, on fixed ports, killed and started again;
//! and the HTTP calls the test makes to them besides the clients'
//! WebSockets: registering the members and reading the stored history.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::processes::{free_port, server_process_logging_to, Backend, ServerProcess};

/// Server processes on fixed ports, killed and started again, each logging
/// (warnings and errors) to its own file in the data directory.
pub struct Cluster<'a> {
    backend: Backend<'a>,
    data: &'a Path,
    pub ports: Vec<u16>,
    processes: Vec<Option<ServerProcess>>,
}

impl<'a> Cluster<'a> {
    pub async fn start(backend: Backend<'a>, data: &'a Path, count: usize) -> Self {
        let mut cluster = Self {
            backend,
            data,
            ports: (0..count).map(|_| free_port()).collect(),
            processes: (0..count).map(|_| None).collect(),
        };
        for index in 0..count {
            cluster.restart(index).await;
        }
        cluster
    }

    pub fn address(&self, index: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[index])
    }

    pub fn kill(&mut self, index: usize) {
        self.processes[index]
            .take()
            .expect("the process is running")
            .kill();
    }

    pub async fn restart(&mut self, index: usize) {
        assert!(self.processes[index].is_none());
        let log = self.log(index);
        let process = server_process_logging_to(
            self.ports[index],
            self.backend,
            self.data,
            &[("NO_COLOR", "1")],
            Some(&log),
        )
        .await;
        self.processes[index] = Some(process);
    }

    /// The log file of process `index` (every run of it, appended).
    pub fn log(&self, index: usize) -> PathBuf {
        self.data.join(format!("server-{index}.log"))
    }

    /// The processes that exited by themselves (not killed by the test):
    /// (index, exit status).
    pub fn exited(&mut self) -> Vec<(usize, String)> {
        self.processes
            .iter_mut()
            .enumerate()
            .filter_map(|(index, process)| {
                let status = process.as_mut()?.exited()?;
                Some((index, status.to_string()))
            })
            .collect()
    }
}

/// Registers `username` on `address`: (id, access token).
pub async fn register(http: &reqwest::Client, address: &str, username: &str) -> (String, String) {
    let response = http
        .post(format!("{address}/api/v1/auth/register"))
        .json(&json!({"username": username, "password": crate::helpers::GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "registering {username}: {body}");
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        body["tokens"]["access_token"].as_str().unwrap().to_owned(),
    )
}

/// The group's stored messages, oldest first, read page by page.
pub async fn history(
    http: &reqwest::Client,
    address: &str,
    token: &str,
    group: &str,
) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let mut url = format!("{address}/api/v1/messages/group/{group}?limit=100");
        if let Some(before) = before {
            url.push_str(&format!("&before={before}"));
        }
        let response = http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200, "reading the history");
        let page: Value = response.json().await.unwrap();
        messages.extend(page["messages"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_i64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    messages.reverse();
    messages
}
