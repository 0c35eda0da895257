// A local OpenID Connect provider for the tests: the third-party
// oauth2-mock-server (npm), configured here with test users and clients. It
// listens on 127.0.0.1 only and prints `ready <issuer>` once it accepts
// requests.
//
//   node oidc-provider.mjs [port] [--no-introspection]
//        port 0 or none: any free port; --no-introspection: a provider
//        without an introspection endpoint (not in discovery, 404)
//
// Who signs in is chosen by the `login_hint` of the authorization request
// (ChatSphere passes it through from `/auth/oauth2/oidc/start?login_hint=`),
// or by `username` in a password-grant token request:
//   "lin@example.com"              -> sub "sub-lin@example.com", verified email
//   "unverified:lin@example.com"   -> the same email, not verified
//   "no-email-claim:lin@..."       -> email only from the userinfo endpoint
//   "bad-nonce:…", "bad-iss:…", "bad-aud:…", "expired:…"
//                                  -> an ID token that must be refused
//   "introspect-bare:…"            -> introspection answers only {active: true}
// Without a hint the user is "johndoe" <john.doe@example.com>.
//
// Tokens record the client that asked for them (HTTP Basic or `client_id`):
// the ID token's `aud`, and `client_id` in introspection answers. A
// password-grant request may carry a `nonce` for its ID token, as mobile
// SDKs do. The introspection endpoint (RFC 7662) answers only registered
// clients with their secret.
import { HttpServer, OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

const args = process.argv.slice(2);
const port = Number(args.find((a) => !a.startsWith("--")) ?? 0);
const introspection = !args.includes("--no-introspection");

const clients = new Map([
  ["chatsphere-test", "chatsphere-test-secret"],
  ["evil-third-party-app", "evil-third-party-secret"],
]);

const issuer = new OAuth2Issuer();
const service = new OAuth2Service(issuer);
await issuer.keys.generate("RS256");

const hintByCode = new Map();
const profiles = new Map(); // sub -> claims, for userinfo
const issuedAccessTokens = new Map(); // access token -> { sub, clientId, scenario, scope, exp }

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

// The client a request authenticates as (HTTP Basic, else the form), with
// the secret it gave.
function clientOf(req) {
  const auth = req.headers.authorization ?? "";
  if (auth.startsWith("Basic ")) {
    const [id, secret] = Buffer.from(auth.slice(6), "base64").toString().split(/:(.*)/s, 2);
    return { id: decodeURIComponent(id), secret: decodeURIComponent(secret ?? "") };
  }
  const body = req.body ?? {};
  return { id: body.client_id, secret: body.client_secret };
}

service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const code = redirect.url.searchParams.get("code");
  if (code && typeof req.query.login_hint === "string") hintByCode.set(code, req.query.login_hint);
});

service.on("beforeTokenSigning", (token, req) => {
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
  if (body.grant_type === "password" && typeof body.nonce === "string") token.payload.nonce = body.nonce;
  const now = Math.floor(Date.now() / 1000);
  switch (scenario) {
    case "bad-nonce": token.payload.nonce = "forged-nonce"; break;
    case "bad-iss": token.payload.iss = "http://127.0.0.1:1/evil"; break;
    case "bad-aud": token.payload.aud = "another-client"; break;
    case "expired": token.payload.iat = now - 7200; token.payload.exp = now - 3600; break;
    case "no-email-claim": delete token.payload.email; delete token.payload.email_verified; break;
  }
});

service.on("beforeResponse", (response, req) => {
  if (response.statusCode === 200 && response.body.access_token) {
    const body = req.body ?? {};
    const hint = body.grant_type === "password" ? body.username : hintByCode.get(body.code);
    const { scenario, claims } = profileFor(hint);
    issuedAccessTokens.set(response.body.access_token, {
      sub: claims.sub,
      clientId: clientOf(req).id,
      scenario,
      scope: body.scope,
      exp: Math.floor(Date.now() / 1000) + response.body.expires_in,
    });
    if (body.code) hintByCode.delete(body.code);
  }
});

// Like a real provider: only tokens it issued are accepted — whichever
// client they were issued to (user-info cannot tell).
service.on("beforeUserinfo", (response, req) => {
  const auth = req.headers.authorization ?? "";
  const issued = auth.startsWith("Bearer ") ? issuedAccessTokens.get(auth.slice(7)) : undefined;
  if (!issued) {
    response.statusCode = 401;
    response.body = { error: "invalid_token" };
    return;
  }
  response.body = profiles.get(issued.sub) ?? { sub: issued.sub };
});

service.on("beforeIntrospect", (response, req) => {
  const client = clientOf(req);
  if (!client.id || clients.get(client.id) !== client.secret) {
    response.statusCode = 401;
    response.body = { error: "invalid_client" };
    return;
  }
  const issued = issuedAccessTokens.get(req.body?.token);
  if (!issued || issued.exp <= Date.now() / 1000) {
    response.body = { active: false };
  } else if (issued.scenario === "introspect-bare") {
    response.body = { active: true };
  } else {
    response.body = {
      active: true,
      client_id: issued.clientId,
      sub: issued.sub,
      scope: issued.scope,
      token_type: "Bearer",
      exp: issued.exp,
      iss: issuer.url,
    };
  }
});

// oauth2-mock-server reads JSON bodies only on /introspect; RFC 7662 clients
// send a form. Without introspection, discovery omits the endpoint.
async function readForm(req) {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65536) break;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

const server = new HttpServer(async (req, res) => {
  const path = new URL(req.url, "http://127.0.0.1").pathname;
  if (path === "/introspect" && req.method === "POST") {
    if (!introspection) {
      res.statusCode = 404;
      res.end();
      return;
    }
    if ((req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      req.body = await readForm(req);
    }
  }
  if (path === "/.well-known/openid-configuration" && !introspection) {
    res.json = function (document) {
      delete document.introspection_endpoint;
      return Object.getPrototypeOf(this).json.call(this, document);
    };
  }
  service.requestHandler(req, res);
});

await server.start(port, "127.0.0.1");
issuer.url = `http://127.0.0.1:${server.address().port}`;
console.log(`ready ${issuer.url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
