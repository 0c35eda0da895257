//! The bypasses an open-redirect filter has to survive, each with what a
//! browser would make of it.

use super::{LocalPath, MAX_NEXT_BYTES};

fn next(input: &str) -> String {
    LocalPath::from_next(Some(input)).into_string()
}

#[test]
fn local_paths_are_kept_with_their_query_and_fragment() {
    for (input, expected) in [
        ("/", "/"),
        ("/rooms", "/rooms"),
        (
            "/settings/security?tab=sessions",
            "/settings/security?tab=sessions",
        ),
        (
            "/c/0190a1b2-0000-7000-8000-000000000000#m-5",
            "/c/0190a1b2-0000-7000-8000-000000000000#m-5",
        ),
        ("/a:b", "/a:b"),
        (
            "/rooms?next=https://evil.example",
            "/rooms?next=https://evil.example",
        ),
        // Relative references resolve against the site root.
        ("rooms", "/rooms"),
        ("/a/../rooms", "/rooms"),
        // A userinfo-looking path segment is just a path.
        ("/@evil.example", "/@evil.example"),
        // Percent-encoded slashes stay encoded: no browser decodes them into a host.
        ("%2F%2Fevil.example", "/%2F%2Fevil.example"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
        ("/%5Cevil.example", "/%5Cevil.example"),
        ("/%09/evil.example", "/%09/evil.example"),
        // Unicode slashes are not slashes: percent-encoded into one path segment.
        ("／evil.example", "/%EF%BC%8Fevil.example"),
        ("/＼evil.example", "/%EF%BC%BCevil.example"),
        ("/房间", "/%E6%88%BF%E9%97%B4"),
        // Browsers drop tabs and newlines inside a path too.
        ("/ro\toms", "/rooms"),
    ] {
        assert_eq!(next(input), expected, "next={input:?}");
    }
}

#[test]
fn anything_a_browser_could_read_as_another_site_goes_home() {
    for hostile in [
        "//evil.example",
        "///evil.example",
        "////evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "/\r\n/evil.example",
        "\t//evil.example",
        " //evil.example",
        "  /\\evil.example",
        "\u{0}//evil.example",
        "\u{1f}//evil.example",
        "/.//evil.example",
        "/./\\evil.example",
        "/a/..//evil.example",
        "https://evil.example",
        "https://evil.example/rooms",
        "HTTPS://evil.example",
        "http:evil.example",
        "http:/evil.example",
        "https:/evil.example",
        "http:\\\\evil.example",
        "//site.invalid@evil.example",
        "https://site.invalid@evil.example/",
        "//user:pass@evil.example",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "mailto:someone@evil.example",
        "//／evil.example",
        "//evil.example\\@site.invalid",
        // Absolute URLs, even ones naming this site: the app only links paths.
        "http://site.invalid/rooms",
        "http://127.0.0.1:3000/rooms",
    ] {
        assert_eq!(next(hostile), "/", "next={hostile:?}");
        assert!(LocalPath::parse(hostile).is_none(), "{hostile:?}");
    }
}

#[test]
fn absent_or_empty_next_goes_home() {
    assert_eq!(LocalPath::from_next(None).as_str(), "/");
    assert_eq!(next(""), "/");
    assert_eq!(next("   "), "/");
}

#[test]
fn long_inputs_are_bounded_before_and_after_normalisation() {
    let longest = format!("/{}", "a".repeat(MAX_NEXT_BYTES - 1));
    assert_eq!(next(&longest), longest);
    let too_long = format!("/{}", "a".repeat(MAX_NEXT_BYTES));
    assert_eq!(next(&too_long), "/");
    let huge = format!("/{}", "a".repeat(1 << 20));
    assert_eq!(next(&huge), "/");
    // Short enough as typed, too long once percent-encoded (3 bytes → 9).
    let expands = format!("/{}", "房".repeat(MAX_NEXT_BYTES / 3 - 1));
    assert!(expands.len() <= MAX_NEXT_BYTES);
    assert_eq!(next(&expands), "/");
}

#[test]
fn what_is_kept_is_plain_ascii_that_parses_back_to_itself() {
    for input in ["/房间?q=一 二#三", "/a b", "/x?y=<z>"] {
        let path = next(input);
        assert!(path.is_ascii() && !path.contains(' '), "{path:?}");
        assert_eq!(next(&path), path, "idempotent for {input:?}");
    }
}
