//! Access-token tests, including one per known JWT attack.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";
const ISS: &str = "https://chat.example.test";
const AUD: &str = "chatsphere-api";

fn tokens() -> AccessTokens {
    AccessTokens::new(SECRET, ISS, AUD, Duration::from_secs(900))
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Valid claims as JSON, to tamper with.
fn claims() -> Value {
    json!({
        "iss": ISS, "aud": AUD, "sub": Uuid::now_v7(), "sid": Uuid::now_v7(), "jti": Uuid::now_v7(),
        "iat": now(), "nbf": now(), "exp": now() + 900, "typ": "access",
    })
}

fn header() -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header
}

/// Signs arbitrary claims with an arbitrary header and key.
fn sign(header: &Header, claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(key)).unwrap()
}

/// A token with a hand-written header and signature part.
fn raw(header: &Value, claims: &Value, signature: &str) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{c}.{signature}")
}

#[test]
fn issued_token_verifies_with_every_claim() {
    let tokens = tokens();
    let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
    let (token, issued) = tokens.issue(user, session).unwrap();
    let verified = tokens.verify(&token).unwrap();
    assert_eq!(verified, issued);
    assert_eq!((verified.sub, verified.sid), (user, session));
    assert_eq!(
        (
            verified.iss.as_str(),
            verified.aud.as_str(),
            verified.typ.as_str()
        ),
        (ISS, AUD, "access")
    );
    assert_eq!(verified.exp - verified.iat, 900);
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
}

#[test]
fn each_issued_token_has_its_own_jti() {
    let tokens = tokens();
    let a = tokens.issue(Uuid::nil(), Uuid::nil()).unwrap().1;
    let b = tokens.issue(Uuid::nil(), Uuid::nil()).unwrap().1;
    assert_ne!(a.jti, b.jti);
}

#[test]
fn alg_none_is_refused_in_any_case() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = raw(&json!({"alg": alg, "typ": "at+jwt"}), &claims(), "");
        assert!(tokens().verify(&token).is_err(), "alg {alg} accepted");
        let token = raw(&json!({"alg": alg, "typ": "at+jwt"}), &claims(), "c2ln");
        assert!(
            tokens().verify(&token).is_err(),
            "alg {alg} with a signature accepted"
        );
    }
}

#[test]
fn hs_rs_confusion_is_refused() {
    // An RS256 header (as an attacker would send to a server that verifies
    // RS256 with a public key) never reaches verification: only HS256 counts.
    let token = raw(
        &json!({"alg": "RS256", "typ": "at+jwt"}),
        &claims(),
        "c2lnbmF0dXJl",
    );
    assert_eq!(tokens().verify(&token), Err(TokenError::Algorithm));
    // Other HMAC strengths are refused too: the algorithm is pinned, not a family.
    let mut hs512 = header();
    hs512.alg = Algorithm::HS512;
    assert_eq!(
        tokens().verify(&sign(&hs512, &claims(), SECRET)),
        Err(TokenError::Algorithm)
    );
}

#[test]
fn stripped_or_altered_signatures_are_refused() {
    let (token, _) = tokens().issue(Uuid::now_v7(), Uuid::now_v7()).unwrap();
    let (unsigned, signature) = token.rsplit_once('.').unwrap();
    assert_eq!(
        tokens().verify(&format!("{unsigned}.")),
        Err(TokenError::Invalid)
    );
    assert_eq!(tokens().verify(unsigned), Err(TokenError::Invalid));
    let mut altered = signature.to_owned().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = format!("{unsigned}.{}", String::from_utf8(altered).unwrap());
    assert_eq!(tokens().verify(&altered), Err(TokenError::Invalid));
    // Claims changed after signing (a different sub) with the original signature.
    let (h, _) = unsigned.split_once('.').unwrap();
    let mut forged = claims();
    forged["sub"] = json!(Uuid::nil());
    let tampered = format!(
        "{h}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(forged.to_string())
    );
    assert_eq!(tokens().verify(&tampered), Err(TokenError::Invalid));
}

#[test]
fn token_signed_with_another_key_is_refused() {
    assert_eq!(
        tokens().verify(&sign(
            &header(),
            &claims(),
            b"attacker-key-attacker-key-attacker"
        )),
        Err(TokenError::Invalid)
    );
}

#[test]
fn forged_kid_jku_and_jwk_headers_are_refused() {
    let attacker = b"attacker-key-attacker-key-attacker";
    let mut with_kid = header();
    with_kid.kid = Some("../../dev/null".into());
    let mut with_jku = header();
    with_jku.jku = Some("https://attacker.example/jwks.json".into());
    let jwk_header = json!({
        "alg": "HS256", "typ": "at+jwt",
        "jwk": {"kty": "oct", "k": URL_SAFE_NO_PAD.encode(attacker)},
    });
    for forged in [with_kid, with_jku] {
        // Even signed with the real key, a header pointing elsewhere is refused.
        assert_eq!(
            tokens().verify(&sign(&forged, &claims(), SECRET)),
            Err(TokenError::Header)
        );
        assert!(tokens()
            .verify(&sign(&forged, &claims(), attacker))
            .is_err());
    }
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(jwk_header.to_string()),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(attacker),
        Algorithm::HS256,
    )
    .unwrap();
    assert!(
        tokens()
            .verify(&format!("{signing_input}.{signature}"))
            .is_err(),
        "embedded jwk accepted"
    );
}

#[test]
fn expired_token_is_refused() {
    let mut old = claims();
    old["iat"] = json!(now() - 3600);
    old["nbf"] = json!(now() - 3600);
    old["exp"] = json!(now() - 60);
    assert_eq!(
        tokens().verify(&sign(&header(), &old, SECRET)),
        Err(TokenError::Time)
    );
}

#[test]
fn token_not_yet_valid_is_refused() {
    let mut future = claims();
    future["nbf"] = json!(now() + 600);
    assert_eq!(
        tokens().verify(&sign(&header(), &future, SECRET)),
        Err(TokenError::Time)
    );
}

#[test]
fn missing_exp_or_nbf_is_refused() {
    for claim in ["exp", "nbf", "iss", "aud", "sub", "jti", "sid", "typ"] {
        let mut partial = claims();
        partial.as_object_mut().unwrap().remove(claim);
        assert!(
            tokens().verify(&sign(&header(), &partial, SECRET)).is_err(),
            "token without {claim} accepted"
        );
    }
}

#[test]
fn wrong_issuer_or_audience_is_refused() {
    let mut wrong_iss = claims();
    wrong_iss["iss"] = json!("https://other.example");
    assert_eq!(
        tokens().verify(&sign(&header(), &wrong_iss, SECRET)),
        Err(TokenError::Claims)
    );
    let mut wrong_aud = claims();
    wrong_aud["aud"] = json!("another-service");
    assert_eq!(
        tokens().verify(&sign(&header(), &wrong_aud, SECRET)),
        Err(TokenError::Claims)
    );
}

#[test]
fn refresh_token_is_never_accepted_as_an_access_token() {
    let (refresh, _) = new_refresh_token();
    assert_eq!(tokens().verify(&refresh), Err(TokenError::Invalid));
    // Nor a JWT of another type, even signed with the right key.
    let mut other = claims();
    other["typ"] = json!("refresh");
    assert_eq!(
        tokens().verify(&sign(&header(), &other, SECRET)),
        Err(TokenError::Claims)
    );
    let mut plain = header();
    plain.typ = Some("JWT".into());
    assert_eq!(
        tokens().verify(&sign(&plain, &claims(), SECRET)),
        Err(TokenError::Header)
    );
}

#[test]
fn refresh_tokens_are_256_random_bits_stored_as_a_hash() {
    let (a, hash_a) = new_refresh_token();
    let (b, _) = new_refresh_token();
    assert_ne!(a, b);
    assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    assert_eq!(hash_refresh_token(&a), hash_a);
    assert_ne!(&hash_a[..], a.as_bytes());
}
