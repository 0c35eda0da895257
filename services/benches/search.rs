//! Prints what searching costs, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: `cargo bench -p services --bench search`. A store is filled
//! through its own write path (group commit, so the index is built as in
//! production) with `SEARCH_BENCH_MESSAGES` (1,000,000) generated messages,
//! English, Chinese and mixed, from `SEARCH_BENCH_USERS` (5,000) users in
//! `SEARCH_BENCH_CONVERSATIONS` (2,000) groups; then one user, a member of
//! 50 of them, searches: latency p50/p95/p99 per kind of query. Figures,
//! not assertions: the machines here are noisy. Filling takes minutes;
//! smaller figures give a quick look. `SEARCH_BENCH_BACKENDS=postgres` (or
//! `sqlite`) runs one backend; `SEARCH_BENCH_KEEP=1` keeps the filled
//! PostgreSQL database (its name is printed) for `explain analyze`, and
//! `SEARCH_BENCH_REUSE=<name>` measures such a database again without filling.

use std::sync::Arc;
use std::time::Instant;

use domain::search::{SearchQuery, SearchSort};
use domain::{DisplayName, Username};
use services::search::snippet::snippet;
use services::search::terms::Terms;
use services::search::tokens::Document;
use services::store::search::{MessageSearch, QUEUE_BATCH};
use services::store::{self, NewMessage, NewUser, Store};
use uuid::Uuid;

// Throwaway PostgreSQL databases, shared with the tests.
#[path = "../tests/support/mod.rs"]
mod support;

const SEARCHER_CONVERSATIONS: usize = 50;
const RUNS: usize = 200;

const ENGLISH: &[&str] = &[
    "the",
    "deploy",
    "deployment",
    "database",
    "migration",
    "migrated",
    "server",
    "release",
    "build",
    "green",
    "failed",
    "review",
    "merge",
    "branch",
    "ticket",
    "customer",
    "meeting",
    "tomorrow",
    "today",
    "please",
    "check",
    "logs",
    "latency",
    "error",
    "timeout",
    "cache",
    "redis",
    "postgres",
    "index",
    "query",
    "slow",
    "fast",
    "update",
    "rollback",
    "incident",
    "alert",
    "pager",
    "dashboard",
    "metrics",
    "budget",
    "quarterly",
    "report",
    "design",
    "api",
    "endpoint",
    "token",
    "login",
    "session",
    "upload",
    "download",
    "image",
    "preview",
    "search",
    "notification",
    "email",
    "webhook",
    "integration",
    "backup",
    "restore",
    "kubernetes",
    "container",
    "docker",
    "network",
    "proxy",
    "certificate",
    "renewal",
    "expired",
    "lunch",
    "coffee",
    "weekend",
    "holiday",
    "thanks",
    "great",
    "sounds",
    "good",
    "will",
    "do",
    "later",
];
const CHINESE: &[&str] = &[
    "我们",
    "的",
    "数据库",
    "迁移",
    "完成",
    "了",
    "服务器",
    "发布",
    "构建",
    "失败",
    "代码",
    "审查",
    "合并",
    "分支",
    "客户",
    "会议",
    "明天",
    "今天",
    "请",
    "检查",
    "日志",
    "延迟",
    "错误",
    "超时",
    "缓存",
    "索引",
    "查询",
    "很慢",
    "更新",
    "回滚",
    "事故",
    "告警",
    "报告",
    "设计",
    "接口",
    "登录",
    "上传",
    "下载",
    "图片",
    "预览",
    "搜索",
    "通知",
    "邮件",
    "备份",
    "恢复",
    "网络",
    "证书",
    "过期",
    "午饭",
    "咖啡",
    "周末",
    "谢谢",
    "好的",
    "稍后",
    "处理",
    "一下",
    "问题",
    "已经",
    "修复",
];

/// A small deterministic generator (xorshift), so every run fills the same.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn message(&mut self) -> String {
        let words = 4 + self.below(14);
        let kind = self.below(10);
        let mut text = String::new();
        for i in 0..words {
            let chinese = match kind {
                0..=4 => false,
                5..=7 => true,
                _ => i % 2 == 1,
            };
            if chinese {
                text.push_str(CHINESE[self.below(CHINESE.len())]);
            } else {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(ENGLISH[self.below(ENGLISH.len())]);
            }
        }
        if self.below(20) == 0 {
            text.push_str(" https://example.com/x");
        }
        text
    }
}

fn var(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let messages = var("SEARCH_BENCH_MESSAGES", 1_000_000);
    let users = var("SEARCH_BENCH_USERS", 5_000);
    let conversations = var("SEARCH_BENCH_CONVERSATIONS", 2_000);
    let backends = std::env::var("SEARCH_BENCH_BACKENDS").unwrap_or_default();
    let wanted = |backend: &str| backends.is_empty() || backends.split(',').any(|b| b == backend);
    tokenizing();
    if wanted("sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = store::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
            .await
            .unwrap();
        run("sqlite", sqlite, messages, users, conversations).await;
    }
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        return;
    };
    if wanted("postgres") {
        if let Ok(name) = std::env::var("SEARCH_BENCH_REUSE") {
            // A database kept by an earlier run: measured again, not refilled.
            let url = support::with_database(&admin, &name);
            let store = store::connect(&url).await.unwrap();
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let (searcher, someone): (Uuid, Uuid) = sqlx::query_as(
                "select s.id, x.sender_id from users s join members m on m.user_id = s.id \
                 join messages x on x.conversation_id = m.conversation_id and x.sender_id <> s.id \
                 where s.username = 'user0' limit 1",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            queries("postgres", &store, searcher, someone).await;
            return;
        }
        let (url, name) = support::create_pg_database(&admin).await;
        if std::env::var_os("SEARCH_BENCH_KEEP").is_some() {
            println!("postgres | kept: database {name}");
            run(
                "postgres",
                store::connect(&url).await.unwrap(),
                messages,
                users,
                conversations,
            )
            .await;
            return;
        }
        let bench = async {
            run(
                "postgres",
                store::connect(&url).await.unwrap(),
                messages,
                users,
                conversations,
            )
            .await
        };
        support::with_cleanup(bench, support::drop_pg_database(&admin, &name)).await;
    }
}

/// What tokenizing adds to each message stored (CPU only).
fn tokenizing() {
    let mut dice = Dice(7);
    let bodies: Vec<String> = (0..20_000).map(|_| dice.message()).collect();
    let started = Instant::now();
    let mut lexemes = 0;
    for body in &bodies {
        let document = Document::of(body);
        lexemes += document.tsvector().len() + document.sqlite_columns().0.len();
    }
    let took = started.elapsed();
    println!(
        "tokenize + both index forms: {:.1?} per message ({} messages, {lexemes} bytes)",
        took / bodies.len() as u32,
        bodies.len()
    );
}

async fn run(
    backend: &str,
    store: Arc<dyn Store>,
    messages: usize,
    users: usize,
    conversations: usize,
) {
    let started = Instant::now();
    let mut ids = Vec::with_capacity(users);
    for i in 0..users {
        let name = format!("user{i}");
        let user = store
            .create_user(&NewUser {
                username: Username::parse(&name).unwrap(),
                email: None,
                display_name: DisplayName::parse(&name).unwrap(),
                password_hash: None,
            })
            .await
            .unwrap();
        ids.push(user.id);
    }
    let searcher = ids[0];
    let mut dice = Dice(42);
    let mut groups = Vec::with_capacity(conversations);
    for c in 0..conversations {
        // 8 members; the searcher in the first 50.
        let owner = if c < SEARCHER_CONVERSATIONS {
            searcher
        } else {
            ids[1 + dice.below(users - 1)]
        };
        let members: Vec<Uuid> = (0..7).map(|_| ids[1 + dice.below(users - 1)]).collect();
        let group = store
            .create_group(owner, &format!("group {c}"), &members)
            .await
            .unwrap();
        let mut all = members;
        all.push(owner);
        groups.push((group.id, all));
    }
    println!(
        "{backend:>8} | {users} users, {conversations} groups in {:.1?}",
        started.elapsed()
    );

    let started = Instant::now();
    let batch = 500;
    let mut stored = 0;
    let mut client = 0u64;
    while stored < messages {
        let (conversation, members) = &groups[dice.below(groups.len())];
        let n = batch.min(messages - stored);
        let bodies: Vec<String> = (0..n).map(|_| dice.message()).collect();
        let clients: Vec<String> = (0..n).map(|i| format!("b{}", client + i as u64)).collect();
        client += n as u64;
        let senders: Vec<Uuid> = (0..n).map(|_| members[dice.below(members.len())]).collect();
        let posted: Vec<NewMessage<'_>> = (0..n)
            .map(|i| NewMessage {
                conversation_id: *conversation,
                sender_id: senders[i],
                client_msg_id: &clients[i],
                body: &bodies[i],
                reply_to: None,
                mentions: &[],
                mentions_all: false,
                attachments: &[],
                label: None,
            })
            .collect();
        store.post_messages(&posted).await.unwrap();
        stored += n;
        if stored % 100_000 < batch {
            println!(
                "{backend:>8} | stored {stored} messages in {:.1?}",
                started.elapsed()
            );
        }
    }
    // SQLite indexes new messages after their transactions, in batches
    // (PostgreSQL in the message's transaction: nothing is queued).
    let mut queued = 0;
    loop {
        let n = store.index_queued(QUEUE_BATCH).await.unwrap();
        if n == 0 {
            break;
        }
        queued += n;
    }
    let took = started.elapsed();
    println!(
        "{backend:>8} | {messages} messages stored (batches of {batch}) and indexed ({queued} after their transactions) in {took:.1?}: {:.1?} each",
        took / messages as u32
    );

    queries(backend, &store, searcher, groups[0].1[0]).await;
}

/// Each kind of query, measured: `searcher` is a member of 50 groups,
/// `someone` of one of them.
async fn queries(backend: &str, store: &Arc<dyn Store>, searcher: Uuid, someone: Uuid) {
    let queries: [(&str, &[&str], Filter); 7] = [
        (
            "single word",
            &["deploy", "database", "incident", "coffee", "rollback"],
            Filter::None,
        ),
        (
            "rare word",
            &["kubernetes", "certificate", "renewal", "holiday", "webhook"],
            Filter::None,
        ),
        (
            "multi-word",
            &[
                "database migration",
                "release build",
                "latency timeout",
                "customer meeting",
                "backup restore",
            ],
            Filter::None,
        ),
        (
            "prefix (typing)",
            &["depl", "migra", "notif", "kuber", "certif"],
            Filter::None,
        ),
        (
            "Chinese",
            &["数据库", "迁移", "服务器", "日志", "告警"],
            Filter::None,
        ),
        (
            "mixed",
            &[
                "数据库 migration",
                "发布 build",
                "日志 error",
                "接口 api",
                "缓存 redis",
            ],
            Filter::None,
        ),
        (
            "filtered (from:, has:link)",
            &["deploy", "数据库", "error", "迁移", "build"],
            Filter::Sender(someone),
        ),
    ];
    for (kind, words, filter) in queries {
        measure(
            backend,
            store,
            searcher,
            kind,
            words,
            filter,
            SearchSort::Newest,
        )
        .await;
    }
    measure(
        backend,
        store,
        searcher,
        "by relevance",
        &["deploy", "数据库", "error", "迁移", "build"],
        Filter::None,
        SearchSort::Relevance,
    )
    .await;
    measure(
        backend,
        store,
        searcher,
        "has:link",
        &["deploy", "数据库", "error", "迁移", "build"],
        Filter::Link,
        SearchSort::Newest,
    )
    .await;
}

#[derive(Clone, Copy)]
enum Filter {
    None,
    Sender(Uuid),
    Link,
}

async fn measure(
    backend: &str,
    store: &Arc<dyn Store>,
    searcher: Uuid,
    kind: &str,
    words: &[&str],
    filter: Filter,
    sort: SearchSort,
) {
    let terms: Vec<Terms> = words
        .iter()
        .map(|w| {
            // A word typed last is matched as a prefix only while typing.
            let typed = if kind.starts_with("prefix") {
                w.to_string()
            } else {
                format!("{w} ")
            };
            Terms::of(&SearchQuery::parse(&typed).unwrap())
        })
        .collect();
    let mut times = Vec::with_capacity(RUNS);
    let mut found = 0;
    for run in 0..RUNS {
        let terms = &terms[run % terms.len()];
        let search = MessageSearch {
            sender: match filter {
                Filter::Sender(id) => Some(id),
                _ => None,
            },
            has_link: matches!(filter, Filter::Link),
            sort,
            ..MessageSearch::newest(searcher, terms)
        };
        let started = Instant::now();
        let page = store.search_messages(&search).await.unwrap();
        for hit in &page.messages {
            std::hint::black_box(snippet(&hit.body, terms));
        }
        times.push(started.elapsed());
        found += page.messages.len();
    }
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{backend:>8} | {kind:<28} | p50 {:>9.2?} | p95 {:>9.2?} | p99 {:>9.2?} | {:.1} hits a page",
        at(0.50),
        at(0.95),
        at(0.99),
        found as f64 / RUNS as f64
    );
}
