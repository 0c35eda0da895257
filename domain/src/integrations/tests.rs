use super::slack::{mrkdwn, Payload};
use super::*;

#[test]
fn scopes_round_trip_their_stored_form() {
    let both = Scopes::of(&[TokenScope::Post, TokenScope::Read]);
    assert_eq!(both.to_stored(), "read,post");
    assert_eq!(Scopes::from_stored("read,post"), Some(both));
    assert!(both.allows(TokenScope::Read) && !both.allows(TokenScope::Admin));
    assert_eq!(Scopes::from_stored("read,root"), None);
    assert_eq!(Scopes::ALL.list().len(), 3);
}

#[test]
fn integration_names_are_one_trimmed_line() {
    assert_eq!(
        IntegrationName::parse("  CI 告警 ").unwrap().as_str(),
        "CI 告警"
    );
    assert!(IntegrationName::parse("").is_err());
    assert!(IntegrationName::parse("a\nb").is_err());
    assert!(IntegrationName::parse(&"x".repeat(65)).is_err());
    let re = regex::Regex::new(&IntegrationName::pattern()).unwrap();
    assert!(re.is_match(" deploy "));
    assert!(!re.is_match(""));
}

#[test]
fn slack_markup_becomes_markdown() {
    assert_eq!(mrkdwn("*done* in ~5~ 4 min"), "**done** in ~~5~~ 4 min");
    assert_eq!(
        mrkdwn("see <https://ci.example.com/1|build 1> or <https://x.example>"),
        "see [build 1](https://ci.example.com/1) or https://x.example"
    );
    assert_eq!(mrkdwn("<!here> <!channel> <@U1|ann>"), "@here @all ann");
    assert_eq!(mrkdwn("a &lt;b&gt; &amp; 2 * 3"), "a <b> & 2 * 3");
    // Only web and mail links stay links: another scheme keeps its label.
    assert_eq!(mrkdwn("<javascript:alert(1)|x> <@U1>"), "x <@U1>");
    assert_eq!(mrkdwn("**kept** *a\nb*"), "**kept** *a\nb*");
}

#[test]
fn payloads_flatten_blocks_and_attachments() {
    let payload: Payload = serde_json::from_value(serde_json::json!({
        "text": "Deploy *finished*",
        "username": "  deploy-bot\n ",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Release 1.2"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "All *green*"},
             "fields": [{"type": "mrkdwn", "text": "*Env*: prod"}]},
            {"type": "divider"},
            {"type": "image", "image_url": "https://x.example/a.png"}
        ],
        "attachments": [{"fallback": "unused", "title": "Build 7", "title_link": "https://ci.example/7",
                         "text": "passed", "fields": [{"title": "Branch", "value": "main"}]}]
    }))
    .unwrap();
    assert_eq!(payload.label().as_deref(), Some("deploy-bot"));
    assert_eq!(
        payload.to_markdown(),
        "Deploy **finished**\n\n**Release 1.2**\n\nAll **green**\n\n**Env**: prod\n\n---\n\n\
         **[Build 7](https://ci.example/7)**\npassed\n**Branch**: main"
    );
    let plain: Payload = serde_json::from_str(r#"{"body": "plain"}"#).unwrap();
    assert_eq!(plain.to_markdown(), "plain");
    let fallback: Payload =
        serde_json::from_str(r#"{"attachments": [{"fallback": "only this"}]}"#).unwrap();
    assert_eq!(fallback.to_markdown(), "only this");
    assert_eq!(Payload::default().to_markdown(), "");
}

#[test]
fn the_conversion_is_linear_in_hostile_input() {
    // Each of these was quadratic once: a megabyte of markers took
    // minutes (no timing here: a regression shows as a test that hangs).
    for marker in ["<", "* ", "*", "~ a", "<https://x.example|"] {
        let text = marker.repeat(1_000_000 / marker.len());
        assert_eq!(mrkdwn(&text).len(), text.len(), "{marker:?}");
    }
    assert_eq!(mrkdwn("<a <https://x.example>"), "<a https://x.example");
}

#[test]
fn a_new_token_reads_whole_days_and_distinct_scopes() {
    let read = |json: &str| serde_json::from_str::<NewAccessToken>(json);
    let ok = read(r#"{"name":"t","scopes":["read","post"],"expires_in_days":30.0}"#).unwrap();
    assert_eq!(ok.expires_in_days, 30);
    let twice = read(r#"{"name":"t","scopes":["post","post"],"expires_in_days":1}"#).unwrap();
    assert_eq!(twice.scopes, vec![TokenScope::Post]);
    for bad in [
        r#"{"name":"t","scopes":["post","post","read","read"],"expires_in_days":1}"#,
        r#"{"name":"t","scopes":["read"],"expires_in_days":1.5}"#,
        r#"{"name":"t","scopes":["read"],"expires_in_days":0}"#,
        r#"{"name":"t","scopes":["read"],"expires_in_days":367}"#,
        r#"{"name":"t","scopes":["read"],"expires_in_days":-1}"#,
    ] {
        assert!(read(bad).is_err(), "{bad}");
    }
}

#[test]
fn outgoing_urls_and_trigger_words_are_checked_and_match_their_patterns() {
    use super::outgoing::{HookUrl, TriggerWord};
    let url_re = regex::Regex::new(&format!("^(?:{})$", HookUrl::pattern())).unwrap();
    for good in ["https://ci.example.com/hook", " http://10.0.0.5:8080/x "] {
        assert!(HookUrl::parse(good).is_ok(), "{good}");
        assert!(url_re.is_match(good), "{good}");
    }
    let long = format!("https://e.com/{}", "a".repeat(2048));
    for bad in [
        "ftp://e.com/",
        "https://",
        "https://a b/",
        "e.com",
        long.as_str(),
    ] {
        assert!(HookUrl::parse(bad).is_err(), "{bad}");
        assert!(!url_re.is_match(bad), "{bad}");
    }
    let word_re = regex::Regex::new(&format!("^(?:{})$", TriggerWord::pattern())).unwrap();
    for good in ["!deploy", " 告警 "] {
        assert!(TriggerWord::parse(good).is_ok(), "{good}");
        assert!(word_re.is_match(good), "{good}");
    }
    let long = "x".repeat(33);
    for bad in ["", "two words", "tab\there", long.as_str()] {
        assert!(TriggerWord::parse(bad).is_err(), "{bad:?}");
        assert!(!word_re.is_match(bad), "{bad:?}");
    }
}

#[test]
fn a_trigger_word_must_be_the_first_word() {
    use super::outgoing::triggers;
    assert!(triggers("anything", None));
    assert!(triggers("!deploy", Some("!deploy")));
    assert!(triggers("  !deploy main\nnow", Some("!deploy")));
    assert!(triggers("告警 磁盘满", Some("告警")));
    assert!(!triggers("!deployed", Some("!deploy")));
    assert!(!triggers("please !deploy", Some("!deploy")));
    assert!(!triggers("", Some("!deploy")));
}

#[test]
fn waits_grow_fourfold_and_never_overflow() {
    use super::outgoing::backoff;
    use std::time::Duration;
    let base = Duration::from_secs(10);
    assert_eq!(backoff(base, 1), base);
    assert_eq!(backoff(base, 2), Duration::from_secs(40));
    assert_eq!(backoff(base, 4), Duration::from_secs(640));
    assert_eq!(backoff(base, 0), base);
    assert!(backoff(base, u32::MAX) >= backoff(base, 30));
}
