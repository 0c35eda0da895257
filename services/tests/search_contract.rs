//! The search index in the store: what each user may read is found (in
//! English word forms, in Chinese by characters, with filters and paging),
//! kept in step with edits and deletions, and nothing else is — on SQLite
//! and, when configured, PostgreSQL. Both backends are fed by one
//! tokenizer, so each test's expectations hold for both.

mod support;

use domain::search::{SearchQuery, SearchSort};
use services::search::terms::Terms;
use services::store::search::{MessageSearch, SearchCursor, SearchStore};
use services::store::MessageChange;
use support::StoreFixture as Fixture;
use uuid::Uuid;

support::store_contract!(
    each_user_finds_what_they_may_read_in_english_and_chinese,
    edits_and_deletions_change_what_is_found_at_once,
    filters_narrow_and_pages_are_full_despite_unreadable_matches,
    by_relevance_pages_by_offset,
    a_deleted_conversation_leaves_nothing_behind,
    long_messages_are_found_alike_on_both_backends,
    filters_alone_page_newest_first_whatever_the_order_asked,
);

/// A search of everything `user` may read (public rooms too when `public`).
fn search<'a>(user: Uuid, terms: &'a Terms, public: bool) -> MessageSearch<'a> {
    MessageSearch {
        public,
        ..MessageSearch::newest(user, terms)
    }
}

fn terms(raw: &str) -> Terms {
    Terms::of(&SearchQuery::parse(raw).unwrap())
}

/// The bodies `user` finds for `raw`, newest first.
async fn find(fx: &Fixture, user: Uuid, raw: &str, public: bool) -> Vec<String> {
    let terms = terms(raw);
    let page = fx
        .store
        .search_messages(&search(user, &terms, public))
        .await
        .unwrap();
    page.messages.into_iter().map(|m| m.body).collect()
}

async fn each_user_finds_what_they_may_read_in_english_and_chinese(fx: Fixture) {
    let ann = fx.user("ann").await;
    let bob = fx.user("bob").await;
    let eve = fx.user("eve").await;
    let group = fx
        .store
        .create_group(ann.id, "数据组", &[bob.id])
        .await
        .unwrap();
    let zh = "我们的数据库迁移完成了";
    let en = "The Databases were MIGRATED overnight";
    let mixed = "API接口 deploy 完成";
    fx.post(group.id, bob.id, zh).await;
    fx.post(group.id, ann.id, en).await;
    let (dm, _) = fx.store.open_direct(ann.id, eve.id).await.unwrap();
    fx.post(dm.id, eve.id, mixed).await;
    let room = fx
        .store
        .create_room(eve.id, "ops", "数据库 backups")
        .await
        .unwrap();
    fx.store
        .add_member(room.id, eve.id, domain::MemberRole::Owner)
        .await
        .unwrap();
    let public = "数据库 backup in the ops room";
    fx.post(room.id, eve.id, public).await;

    // Chinese: the characters of a query, together, anywhere.
    assert_eq!(find(&fx, ann.id, "数据库", false).await, [zh]);
    assert_eq!(find(&fx, bob.id, "迁移", false).await, [zh]);
    assert_eq!(find(&fx, ann.id, "数据库迁移完成", false).await, [zh]);
    assert!(
        find(&fx, ann.id, "库数据", false).await.is_empty(),
        "order matters"
    );
    // Public rooms one has not joined only when asked for.
    assert_eq!(find(&fx, ann.id, "数据库", true).await, [public, zh]);
    // Eve is not in the group.
    assert_eq!(find(&fx, eve.id, "数据库", false).await, [public]);
    assert!(find(&fx, eve.id, "migrated", true).await.is_empty());
    // English: word forms and case, a prefix while typing.
    for query in [
        "database ",
        "MIGRATION ",
        "migrate databases ",
        "overn",
        "datab",
    ] {
        assert_eq!(find(&fx, ann.id, query, false).await, [en], "{query}");
    }
    assert!(find(&fx, bob.id, "overnights ", false).await.len() == 1);
    assert!(
        find(&fx, ann.id, "\"databases overnight\"", false)
            .await
            .is_empty(),
        "a phrase is in order"
    );
    assert_eq!(find(&fx, ann.id, "\"were migrated\"", false).await, [en]);
    // Mixed Chinese and English.
    assert_eq!(find(&fx, ann.id, "api接口", false).await, [mixed]);
    assert_eq!(find(&fx, eve.id, "接口 deploying", false).await, [mixed]);
    assert!(find(&fx, bob.id, "接口", false).await.is_empty());
    // Operators of the underlying engines are only text.
    for raw in [
        "NEAR(数据 库)",
        "data* OR -x",
        r#""unbalanced"#,
        "stems:数据",
        "'; drop table messages; --",
    ] {
        let terms = terms(raw);
        fx.store
            .search_messages(&search(ann.id, &terms, true))
            .await
            .unwrap();
    }
}

async fn edits_and_deletions_change_what_is_found_at_once(fx: Fixture) {
    let ann = fx.user("ann").await;
    let (dm, _) = fx.store.open_direct(ann.id, ann.id).await.unwrap();
    let m = fx.post(dm.id, ann.id, "first draft about kittens").await;
    fx.store
        .change_message(
            dm.id,
            m.id,
            MessageChange::Edit {
                body: "second draft about 小猫",
            },
        )
        .await
        .unwrap();
    assert!(find(&fx, ann.id, "kittens", false).await.is_empty());
    assert_eq!(
        find(&fx, ann.id, "小猫", false).await,
        ["second draft about 小猫"]
    );
    fx.store
        .change_message(dm.id, m.id, MessageChange::Delete)
        .await
        .unwrap();
    assert!(find(&fx, ann.id, "小猫", false).await.is_empty());
    assert!(find(&fx, ann.id, "draft", false).await.is_empty());
    // Nor by filters alone.
    let none = Terms::default();
    let mut by_sender = search(ann.id, &none, false);
    by_sender.sender = Some(ann.id);
    assert!(fx
        .store
        .search_messages(&by_sender)
        .await
        .unwrap()
        .messages
        .is_empty());
}

async fn filters_narrow_and_pages_are_full_despite_unreadable_matches(fx: Fixture) {
    let ann = fx.user("ann").await;
    let bob = fx.user("bob").await;
    let eve = fx.user("eve").await;
    let shared = fx
        .store
        .create_group(ann.id, "shared", &[bob.id])
        .await
        .unwrap();
    let secret = fx
        .store
        .create_group(eve.id, "secret", &[bob.id])
        .await
        .unwrap();
    // Unreadable matches interleaved with readable ones.
    for i in 0..25 {
        fx.post(secret.id, eve.id, &format!("report {i} secret"))
            .await;
        let sender = if i % 2 == 0 { ann.id } else { bob.id };
        let link = if i == 7 {
            " see https://example.com/r"
        } else {
            ""
        };
        fx.post(shared.id, sender, &format!("report {i}{link}"))
            .await;
    }
    let t = terms("report ");
    let first = fx
        .store
        .search_messages(&search(ann.id, &t, true))
        .await
        .unwrap();
    assert_eq!(first.messages.len(), 20, "a full page");
    assert!(first
        .messages
        .iter()
        .all(|m| m.conversation_id == shared.id && m.joined));
    assert_eq!(first.messages[0].body, "report 24");
    let next = first.next.expect("more");
    let mut second = search(ann.id, &t, true);
    second.cursor = Some(next);
    let second = fx.store.search_messages(&second).await.unwrap();
    let bodies: Vec<&str> = second.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["report 4", "report 3", "report 2", "report 1", "report 0"]
    );
    assert!(second.next.is_none());
    // The group's name, for the results.
    assert_eq!(first.messages[0].conversation_name, "shared");

    let mut by_bob = search(ann.id, &t, false);
    by_bob.sender = Some(bob.id);
    by_bob.limit = 100;
    assert_eq!(
        fx.store
            .search_messages(&by_bob)
            .await
            .unwrap()
            .messages
            .len(),
        12
    );
    let mut with_link = search(ann.id, &t, false);
    with_link.has_link = true;
    let linked = fx.store.search_messages(&with_link).await.unwrap().messages;
    assert_eq!(linked.len(), 1);
    assert!(linked[0].body.starts_with("report 7 "));
    // A conversation the searcher cannot read, named as a filter: nothing.
    let mut in_secret = search(ann.id, &t, true);
    in_secret.conversation = Some(secret.id);
    assert!(fx
        .store
        .search_messages(&in_secret)
        .await
        .unwrap()
        .messages
        .is_empty());
    // Time bounds.
    let mut future = search(ann.id, &t, false);
    future.since = Some(chrono::Utc::now() + chrono::Duration::days(1));
    assert!(fx
        .store
        .search_messages(&future)
        .await
        .unwrap()
        .messages
        .is_empty());
    let mut past = search(ann.id, &t, false);
    past.until = Some(chrono::Utc::now() + chrono::Duration::days(1));
    past.limit = 100;
    assert_eq!(
        fx.store
            .search_messages(&past)
            .await
            .unwrap()
            .messages
            .len(),
        25
    );
    // Filters only, no words.
    let none = Terms::default();
    let mut only_links = search(bob.id, &none, false);
    only_links.has_link = true;
    assert_eq!(
        fx.store
            .search_messages(&only_links)
            .await
            .unwrap()
            .messages
            .len(),
        1
    );
    // A direct conversation is named after the other person.
    let (dm, _) = fx.store.open_direct(ann.id, bob.id).await.unwrap();
    fx.post(dm.id, bob.id, "report for you").await;
    let found = fx
        .store
        .search_messages(&search(ann.id, &t, false))
        .await
        .unwrap();
    assert_eq!(found.messages[0].conversation_name, "bob");
    assert_eq!(found.messages[0].peer_id, Some(bob.id));
}

async fn by_relevance_pages_by_offset(fx: Fixture) {
    let ann = fx.user("ann").await;
    let (dm, _) = fx.store.open_direct(ann.id, ann.id).await.unwrap();
    for i in 0..23 {
        fx.post(dm.id, ann.id, &format!("note {i}")).await;
    }
    fx.post(dm.id, ann.id, "note note note: the best note")
        .await;
    let t = terms("note ");
    let mut by_rank = search(ann.id, &t, false);
    by_rank.sort = SearchSort::Relevance;
    let first = fx.store.search_messages(&by_rank).await.unwrap();
    assert_eq!(first.messages.len(), 20);
    assert_eq!(first.messages[0].body, "note note note: the best note");
    assert_eq!(first.next, Some(SearchCursor::Offset(20)));
    by_rank.cursor = first.next;
    let second = fx.store.search_messages(&by_rank).await.unwrap();
    assert_eq!(second.messages.len(), 4);
    assert!(second.next.is_none());
    // A cursor of the other order finds nothing rather than failing.
    let mut newest = search(ann.id, &t, false);
    newest.cursor = Some(SearchCursor::Offset(20));
    assert!(fx
        .store
        .search_messages(&newest)
        .await
        .unwrap()
        .messages
        .is_empty());
}

async fn a_deleted_conversation_leaves_nothing_behind(fx: Fixture) {
    let ann = fx.user("ann").await;
    let room = fx.store.create_room(ann.id, "temp", "").await.unwrap();
    fx.store
        .add_member(room.id, ann.id, domain::MemberRole::Owner)
        .await
        .ok();
    fx.post(room.id, ann.id, "ephemeral words").await;
    assert_eq!(find(&fx, ann.id, "ephemeral", true).await.len(), 1);
    fx.store.delete_room(room.id).await.unwrap();
    assert!(find(&fx, ann.id, "ephemeral", true).await.is_empty());
    // New messages elsewhere are found, and only they.
    let (dm, _) = fx.store.open_direct(ann.id, ann.id).await.unwrap();
    fx.post(dm.id, ann.id, "fresh words").await;
    assert_eq!(find(&fx, ann.id, "words", true).await, ["fresh words"]);
    assert!(fx
        .store
        .search_conversations(ann.id, "temp", 5)
        .await
        .unwrap()
        .is_empty());
}

async fn long_messages_are_found_alike_on_both_backends(fx: Fixture) {
    let ann = fx.user("ann").await;
    let (dm, _) = fx.store.open_direct(ann.id, ann.id).await.unwrap();
    // A character past its 256th occurrence keeps its place but is not
    // indexed (PostgreSQL keeps 256 positions a lexeme; SQLite is held to it).
    let repeated = format!("{}数据库 tail", "的".repeat(300));
    fx.post(dm.id, ann.id, &repeated).await;
    // Past 16,383 positions nothing is indexed (PostgreSQL's last position).
    let long = format!("{}needle", "w ".repeat(16_400));
    fx.post(dm.id, ann.id, &long).await;
    assert_eq!(
        find(&fx, ann.id, "数据库", false).await,
        [repeated.as_str()]
    );
    assert_eq!(find(&fx, ann.id, "tail", false).await, [repeated.as_str()]);
    assert_eq!(find(&fx, ann.id, "的", false).await, [repeated.as_str()]);
    assert!(find(&fx, ann.id, "的数据库", false).await.is_empty());
    assert!(find(&fx, ann.id, "needle", false).await.is_empty());
    assert_eq!(find(&fx, ann.id, "w", false).await, [long]);
}

async fn filters_alone_page_newest_first_whatever_the_order_asked(fx: Fixture) {
    let ann = fx.user("ann").await;
    let (dm, _) = fx.store.open_direct(ann.id, ann.id).await.unwrap();
    for i in 0..25 {
        fx.post(dm.id, ann.id, &format!("note {i}")).await;
    }
    let none = Terms::default();
    let mut by_sender = search(ann.id, &none, false);
    by_sender.sender = Some(ann.id);
    by_sender.sort = SearchSort::Relevance;
    let first = fx.store.search_messages(&by_sender).await.unwrap();
    assert_eq!(first.messages.len(), 20);
    assert_eq!(first.messages[0].body, "note 24");
    assert!(matches!(first.next, Some(SearchCursor::Message(_))));
    by_sender.cursor = first.next;
    let second = fx.store.search_messages(&by_sender).await.unwrap();
    let bodies: Vec<&str> = second.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["note 4", "note 3", "note 2", "note 1", "note 0"]);
}

/// PostgreSQL reads the newest messages before asking its GIN index
/// (`SearchWindows`): whatever the windows, a search pages through exactly
/// the matches, newest first, none twice: windows holding everything, tiny
/// windows (each walk, its edge, then the index below it), and the index
/// alone.
#[tokio::test]
async fn postgres_finds_the_same_whatever_it_walks_first() {
    support::on_postgres(|fx| async move {
        let ann = fx.user("ann").await;
        let bob = fx.user("bob").await;
        let eve = fx.user("eve").await;
        let mut readable = Vec::new();
        for name in ["one", "two", "three"] {
            let group = fx
                .store
                .create_group(ann.id, name, &[bob.id])
                .await
                .unwrap();
            readable.push(group.id);
        }
        let secret = fx
            .store
            .create_group(eve.id, "secret", &[bob.id])
            .await
            .unwrap();
        // (body, sender is bob, has a link), oldest first.
        let mut sent: Vec<(String, bool, bool)> = Vec::new();
        for i in 0..90usize {
            let mut body = format!("m{i}");
            if i % 2 == 0 {
                body.push_str(" alpha");
            }
            if i % 13 == 0 {
                body.push_str(" beta");
            }
            if i % 5 == 0 {
                body.push_str(" 我们的数据库迁移");
            }
            let link = i % 7 == 0;
            if link {
                body.push_str(" https://example.com/x");
            }
            let by_bob = i % 3 == 0;
            let sender = if by_bob { bob.id } else { ann.id };
            fx.post(readable[i % 3], sender, &body).await;
            sent.push((body.clone(), by_bob, link));
            // Unreadable matches between the readable ones.
            fx.post(secret.id, eve.id, &format!("s{i} alpha beta 数据库"))
                .await;
        }
        let base = services::store::PgStore::connect(&fx.url).await.unwrap();
        let configs = [
            services::store::SearchWindows::default(),
            services::store::SearchWindows {
                first: 3,
                first_ranked: 4,
                next: 5,
                max_conversations: 100,
            },
            services::store::SearchWindows {
                max_conversations: 0,
                ..Default::default()
            },
        ];
        type Wanted = fn(&str, bool, bool) -> bool;
        let cases: [(&str, Option<Uuid>, bool, Wanted); 7] = [
            ("alpha ", None, false, |b, _, _| b.contains("alpha")),
            ("beta ", None, false, |b, _, _| b.contains("beta")),
            ("数据库", None, false, |b, _, _| b.contains("数据库")),
            ("alpha beta ", None, false, |b, _, _| {
                b.contains("alpha") && b.contains("beta")
            }),
            ("alp", None, false, |b, _, _| b.contains("alpha")),
            ("alpha ", Some(bob.id), false, |b, bob, _| {
                b.contains("alpha") && bob
            }),
            ("数据库", None, true, |b, _, link| {
                b.contains("数据库") && link
            }),
        ];
        for windows in configs {
            let store = base.clone().with_search_windows(windows);
            for (raw, sender, has_link, wanted) in cases {
                let expected: Vec<&str> = sent
                    .iter()
                    .rev()
                    .filter(|(b, by_bob, link)| wanted(b, *by_bob, *link))
                    .map(|(b, _, _)| b.as_str())
                    .collect();
                assert!(!expected.is_empty(), "{raw}");
                let t = terms(raw);
                for sort in [SearchSort::Newest, SearchSort::Relevance] {
                    let mut found = Vec::new();
                    let mut cursor = None;
                    loop {
                        let page = store
                            .search_messages(&MessageSearch {
                                sender,
                                has_link,
                                sort,
                                cursor,
                                limit: 4,
                                ..MessageSearch::newest(ann.id, &t)
                            })
                            .await
                            .unwrap();
                        found.extend(page.messages.into_iter().map(|m| m.body));
                        match page.next {
                            Some(next) => cursor = Some(next),
                            None => break,
                        }
                    }
                    if sort == SearchSort::Relevance {
                        let mut found = found.clone();
                        found.sort();
                        let mut expected = expected.clone();
                        expected.sort();
                        assert_eq!(found, expected, "{raw} by relevance, {windows:?}");
                    } else {
                        assert_eq!(found, expected, "{raw}, {windows:?}");
                    }
                }
            }
        }
    })
    .await;
}
