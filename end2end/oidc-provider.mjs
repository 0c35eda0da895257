// A local OpenID Connect provider for the tests: the third-party
// oauth2-mock-server (npm), configured here with test users. It listens on
// 127.0.0.1 only and prints `ready <issuer>` once it accepts requests.
//
//   node oidc-provider.mjs [port]      (0 or nothing: any free port)
//
// Who signs in is chosen by the `login_hint` of the authorization request
// (ChatSphere passes it through from `/auth/oauth2/oidc/start?login_hint=`),
// or by `username` in a password-grant token request:
//   "lin@example.com"              -> sub "sub-lin@example.com", verified email
//   "unverified:lin@example.com"   -> the same email, not verified
//   "no-email-claim:lin@..."       -> email only from the userinfo endpoint
//   "bad-nonce:…", "bad-iss:…", "bad-aud:…", "expired:…"
//                                  -> an ID token that must be refused
// Without a hint the user is "johndoe" <john.doe@example.com>.
import { OAuth2Server } from "oauth2-mock-server";

const port = Number(process.argv[2] ?? 0);
const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");

const hintByCode = new Map();
const profiles = new Map(); // sub -> claims, for userinfo
const issuedAccessTokens = new Map(); // access token -> sub

function profileFor(hint) {
  if (!hint) {
    return { scenario: "", claims: { sub: "johndoe", email: "john.doe@example.com", email_verified: true, name: "John Doe", preferred_username: "johndoe" } };
  }
  const [scenario, email] = hint.includes(":") ? hint.split(/:(.*)/s, 2) : ["", hint];
  const local = email.split("@")[0];
  return {
    scenario,
    claims: {
      sub: `sub-${hint}`,
      email,
      email_verified: scenario !== "unverified",
      name: local.charAt(0).toUpperCase() + local.slice(1) + " Tester",
      preferred_username: local,
    },
  };
}

server.service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const code = redirect.url.searchParams.get("code");
  if (code && typeof req.query.login_hint === "string") hintByCode.set(code, req.query.login_hint);
});

server.service.on("beforeTokenSigning", (token, req) => {
  const body = req.body ?? {};
  const hint = body.grant_type === "password" ? body.username : hintByCode.get(body.code);
  const { scenario, claims } = profileFor(hint);
  profiles.set(claims.sub, claims);
  const isIdToken = token.payload.scope === undefined;
  if (!isIdToken) {
    token.payload.sub = claims.sub;
    return;
  }
  Object.assign(token.payload, claims);
  const now = Math.floor(Date.now() / 1000);
  switch (scenario) {
    case "bad-nonce": token.payload.nonce = "forged-nonce"; break;
    case "bad-iss": token.payload.iss = "http://127.0.0.1:1/evil"; break;
    case "bad-aud": token.payload.aud = "another-client"; break;
    case "expired": token.payload.iat = now - 7200; token.payload.exp = now - 3600; break;
    case "no-email-claim": delete token.payload.email; delete token.payload.email_verified; break;
  }
});

server.service.on("beforeResponse", (response, req) => {
  if (response.statusCode === 200 && response.body.access_token) {
    const body = req.body ?? {};
    const hint = body.grant_type === "password" ? body.username : hintByCode.get(body.code);
    issuedAccessTokens.set(response.body.access_token, profileFor(hint).claims.sub);
    if (body.code) hintByCode.delete(body.code);
  }
});

// Like a real provider: only tokens it issued are accepted.
server.service.on("beforeUserinfo", (response, req) => {
  const auth = req.headers.authorization ?? "";
  const sub = auth.startsWith("Bearer ") ? issuedAccessTokens.get(auth.slice(7)) : undefined;
  if (!sub) {
    response.statusCode = 401;
    response.body = { error: "invalid_token" };
    return;
  }
  response.body = profiles.get(sub) ?? { sub };
});

await server.start(port, "127.0.0.1");
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
console.log(`ready ${server.issuer.url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
