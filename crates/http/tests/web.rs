//! The web side over its router, with a real store: every autoconfig format parsed and checked
//! against the endpoints, every API endpoint with the right, a wrong and a revoked token, and
//! the pages' sign-in, CSRF and administrator checks.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mailroom_admin::{AccountSettings, Admin, ClientEndpoints, endpoints};
use mailroom_auth::Authenticator;
use mailroom_http::{Client, HttpConfig, HttpServer};
use mailroom_store::{Delivery, MailboxName, Mailboxes, Messages, Store};
use mailroom_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

struct Web {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    admin: Admin,
    router: axum::Router,
    /// The same server as seen by plain HTTP from another machine, and from this one.
    plain_remote: axum::Router,
    plain_local: axum::Router,
    /// `[http] metrics_listen` as another machine sees it.
    metrics_remote: axum::Router,
    ops: String,
    bob: String,
}

fn ends() -> ClientEndpoints {
    let s = |l: &[&str]| l.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    ClientEndpoints {
        hostname: "mail.example.com".into(),
        imap: endpoints(&s(&["0.0.0.0:10143"]), &s(&["0.0.0.0:10993"])),
        pop3: endpoints(&[], &s(&["0.0.0.0:10995"])),
        submission: endpoints(&s(&["0.0.0.0:10587"]), &[]),
        https: Some(10443),
        http: None,
    }
}

async fn web() -> Web {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let admin = Admin::new(shared.clone());
    admin.add_domain("example.com").await.unwrap();
    let boss = AccountSettings {
        admin: Some(true),
        ..AccountSettings::default()
    };
    admin
        .add_account("ann@example.com", Some("ann password"), &boss)
        .await
        .unwrap();
    admin
        .add_account(
            "bob@example.com",
            Some("bob password"),
            &AccountSettings::default(),
        )
        .await
        .unwrap();
    let ops = admin.add_api_token("ops", None).await.unwrap();
    let bob = admin
        .add_api_token("bob's", Some("bob@example.com"))
        .await
        .unwrap();
    let config = HttpConfig {
        endpoints: ends(),
        secret: b"test secret".to_vec(),
        ..HttpConfig::default()
    };
    let server = HttpServer::new(
        admin.clone(),
        Authenticator::new(shared),
        None,
        config,
        None,
    );
    let seen_as = |ip: &str, tls: bool| {
        server.router().layer(axum::Extension(Client {
            ip: ip.parse().unwrap(),
            tls,
        }))
    };
    let router = seen_as("192.0.2.10", true);
    let plain_remote = seen_as("192.0.2.10", false);
    let plain_local = seen_as("127.0.0.1", false);
    let metrics_remote = server
        .metrics_only()
        .router()
        .layer(axum::Extension(Client {
            ip: "192.0.2.10".parse().unwrap(),
            tls: false,
        }));
    Web {
        _dir: dir,
        store,
        admin,
        router,
        plain_remote,
        plain_local,
        metrics_remote,
        ops,
        bob,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Web {
    async fn send(&self, request: Request<Body>) -> Answer {
        send_to(&self.router, request).await
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn api(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/api/v1{uri}"));
        if let Some(t) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }
}

async fn send_to(router: &axum::Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// (type, port, socketType) of every server element of a Mozilla answer.
fn mozilla_servers(xml: &str) -> Vec<(String, String, u16, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut out = Vec::new();
    let mut current: Option<(String, String, u16, String)> = None;
    let mut field = String::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "incomingServer" || name == "outgoingServer" {
                    let kind = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == b"type")
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                        .unwrap();
                    current = Some((name, kind, 0, String::new()));
                }
                field = String::from_utf8_lossy(e.name().as_ref()).into_owned();
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    let text = t.unescape().unwrap().into_owned();
                    match field.as_str() {
                        "port" => c.2 = text.parse().unwrap(),
                        "socketType" => c.3 = text,
                        "hostname" => assert_eq!(text, "mail.example.com"),
                        _ => {}
                    }
                }
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if (name == "incomingServer" || name == "outgoingServer")
                    && let Some(c) = current.take()
                {
                    out.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn mozilla_autoconfig_names_exactly_the_listeners() {
    let w = web().await;
    for uri in [
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob@example.com",
        "/mail/config-v1.1.xml?emailaddress=bob%40Example.com",
    ] {
        let a = w.get(uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert!(
            a.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/xml")
        );
        let servers = mozilla_servers(&a.body);
        let expected: Vec<(String, String, u16, String)> = [
            ("incomingServer", "imap", 10993, "SSL"),
            ("incomingServer", "imap", 10143, "STARTTLS"),
            ("incomingServer", "pop3", 10995, "SSL"),
            ("outgoingServer", "smtp", 10587, "STARTTLS"),
        ]
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), *c, d.to_string()))
        .collect();
        assert_eq!(servers, expected);
        assert!(a.body.contains("<username>bob@"), "{}", a.body);
    }
    // Without the address: the domain is the host's (autoconfig.<domain>).
    let a = w
        .send(
            Request::get("/mail/config-v1.1.xml")
                .header(header::HOST, "autoconfig.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("<username>%EMAILADDRESS%</username>"));
    // Never another domain's settings.
    for uri in [
        "/mail/config-v1.1.xml?emailaddress=eve@elsewhere.org",
        "/mail/config-v1.1.xml?emailaddress=not-an-address",
    ] {
        assert_eq!(w.get(uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

fn pox(address: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>{address}</EMailAddress>
  <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request></Autodiscover>"#
    )
}

#[tokio::test]
async fn autodiscover_answers_outlook_in_its_own_formats() {
    let w = web().await;
    let post = |body: String| {
        Request::post("/autodiscover/autodiscover.xml")
            .body(Body::from(body))
            .unwrap()
    };
    let a = w.send(post(pox("bob@example.com"))).await;
    assert_eq!(a.status, StatusCode::OK);
    // (Type, Port, Encryption present) per Protocol element.
    let protocols: Vec<(String, u16, bool)> = a
        .body
        .split("<Protocol>")
        .skip(1)
        .map(|p| {
            let field = |name: &str| {
                p.split(&format!("<{name}>"))
                    .nth(1)
                    .and_then(|r| r.split('<').next())
                    .unwrap_or_default()
                    .to_string()
            };
            assert_eq!(field("Server"), "mail.example.com");
            assert_eq!(field("LoginName"), "bob@example.com");
            (
                field("Type"),
                field("Port").parse().unwrap(),
                p.contains("<Encryption>TLS"),
            )
        })
        .collect();
    assert_eq!(
        protocols,
        [
            ("IMAP".to_string(), 10993, true),
            ("POP3".to_string(), 10995, true),
            ("SMTP".to_string(), 10587, false),
        ]
    );
    let unknown = w.send(post(pox("eve@elsewhere.org"))).await;
    assert!(
        unknown.body.contains("<ErrorCode>500</ErrorCode>"),
        "{}",
        unknown.body
    );
    assert!(!unknown.body.contains("mail.example.com"));
    let garbage = w.send(post("<<<".into())).await;
    assert!(garbage.body.contains("<ErrorCode>600</ErrorCode>"));
    let schema = w
        .send(post(pox("bob@example.com").replace(
            "outlook/responseschema/2006a",
            "mobilesync/responseschema/2006",
        )))
        .await;
    assert!(schema.body.contains("<ErrorCode>601</ErrorCode>"));

    let v2 = w
        .get("/autodiscover/autodiscover.json?Email=bob@example.com&Protocol=AutodiscoverV1")
        .await;
    assert_eq!(
        v2.json(),
        json!({"Protocol": "AutodiscoverV1", "Url": "https://mail.example.com:10443/autodiscover/autodiscover.xml"})
    );
    let path = w
        .get("/autodiscover/autodiscover.json/v1.0/bob@example.com?Protocol=AutodiscoverV1")
        .await;
    assert_eq!(path.status, StatusCode::OK);
    let wrong = w
        .get("/autodiscover/autodiscover.json?Email=bob@example.com&Protocol=ActiveSync")
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["ErrorCode"], "InvalidProtocol");
    let nobody = w
        .get("/autodiscover/autodiscover.json?Email=eve@elsewhere.org&Protocol=AutodiscoverV1")
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

/// Every path the OpenAPI document lists exists (401 without a token, never 404), and a
/// user's token can't act as an administrator.
#[tokio::test]
async fn every_documented_endpoint_wants_a_token() {
    let w = web().await;
    let doc = w.api("GET", "/openapi.json", None, None).await.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{}", paths.len());
    for (path, methods) in paths {
        let uri = path
            .replace("{name}", "example.com")
            .replace("{address}", "bob@example.com")
            .replace("{alias}", "x@example.com")
            .replace("{id}", "1");
        for method in methods.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            let body = matches!(method.as_str(), "POST" | "PATCH").then(|| json!({}));
            let a = w.api(&method, &uri, None, body.clone()).await;
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri}: {}",
                a.body
            );
            assert!(a.headers.contains_key(header::WWW_AUTHENTICATE));
            let wrong = w
                .api(&method, &uri, Some("mrt_not-a-token"), body.clone())
                .await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            if !uri.starts_with("/me") {
                let user = w.api(&method, &uri, Some(&w.bob), body).await;
                assert_eq!(
                    user.status,
                    StatusCode::FORBIDDEN,
                    "{method} {uri} with a user's token"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_api_runs_the_administrators_operations() {
    let w = web().await;
    let ops = Some(w.ops.as_str());
    let status = w.api("GET", "/status", ops, None).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.json()["accounts"], 2);
    assert_eq!(
        status.json()["endpoints"]["imap"][0],
        json!({"port": 10993, "security": "tls"})
    );

    let added = w
        .api(
            "POST",
            "/domains",
            ops,
            Some(json!({"name": "example.org"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let dns = added.json()["dns"].as_array().unwrap().clone();
    assert!(
        dns.iter()
            .any(|r| r == "example.org. 3600 IN MX 10 mail.example.com."),
        "{dns:?}"
    );
    assert!(
        dns.iter()
            .any(|r| r == "_imaps._tcp.example.org. 3600 IN SRV 0 1 10993 mail.example.com.")
    );
    assert!(
        dns.iter()
            .any(|r| r == "autoconfig.example.org. 3600 IN CNAME mail.example.com.")
    );
    let again = w
        .api(
            "POST",
            "/domains",
            ops,
            Some(json!({"name": "example.org"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"], "domain example.org already exists");
    let patched = w
        .api(
            "PATCH",
            "/domains/example.org",
            ops,
            Some(json!({"default_quota_bytes": 1048576, "recovery_days": null})),
        )
        .await;
    assert_eq!(patched.json()["default_quota_bytes"], 1048576);
    assert_eq!(
        w.api("GET", "/domains/nope.org", ops, None).await.status,
        StatusCode::NOT_FOUND
    );

    let made = w
        .api(
            "POST",
            "/accounts",
            ops,
            Some(json!({"address": "carol@example.org", "protocols": "imap"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let password = made.json()["password"].as_str().unwrap().to_string();
    assert_eq!(
        made.json()["account"]["quota_bytes"],
        1048576,
        "the domain's default"
    );
    assert_eq!(made.json()["account"]["protocols"], "imap");
    assert!(!made.body.contains("argon2"), "no password hash in answers");
    let carol = w
        .store
        .account_by_address_for_test("carol@example.org")
        .await;
    assert!(mailroom_auth::verify_password(
        &carol.password_hash,
        &password
    ));
    let bad = w
        .api(
            "POST",
            "/accounts",
            ops,
            Some(json!({"address": "dave@nowhere.org"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json()["error"],
        "no domain nowhere.org: add the domain first"
    );
    let off = w
        .api(
            "PATCH",
            "/accounts/carol@example.org",
            ops,
            Some(json!({"enabled": false, "quota_bytes": null})),
        )
        .await;
    assert_eq!(off.json()["enabled"], false);
    assert_eq!(off.json()["quota_bytes"], Value::Null);
    let reset = w
        .api(
            "POST",
            "/accounts/carol@example.org/password",
            ops,
            Some(json!({"password": "new carol pw"})),
        )
        .await;
    assert_eq!(
        reset.json()["password"],
        Value::Null,
        "given, not generated"
    );
    let app = w
        .api(
            "POST",
            "/accounts/carol@example.org/app-passwords",
            ops,
            Some(json!({"name": "phone"})),
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED);
    let list = w
        .api(
            "GET",
            "/accounts/carol@example.org/app-passwords",
            ops,
            None,
        )
        .await;
    assert_eq!(list.json()[0]["name"], "phone");
    assert!(!list.body.contains(app.json()["secret"].as_str().unwrap()));
    assert_eq!(
        w.api(
            "DELETE",
            "/accounts/carol@example.org/app-passwords/phone",
            ops,
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let alias = w
        .api(
            "POST",
            "/aliases",
            ops,
            Some(json!({"alias": "info@example.org", "address": "carol@example.org"})),
        )
        .await;
    assert_eq!(alias.status, StatusCode::CREATED);
    assert_eq!(
        w.api("GET", "/aliases", ops, None).await.json()[0]["alias"],
        "info@example.org"
    );
    assert_eq!(
        w.api("DELETE", "/aliases/info@example.org", ops, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.api("DELETE", "/aliases/info@example.org", ops, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Deleted mail: listed and restored.
    let account = w.admin.account("bob@example.com").await.unwrap();
    w.store
        .deliver(Delivery {
            recipients: vec![account.id],
            content: b"Subject: lost\r\nFrom: x@example.net\r\n\r\nbody\r\n"
                .to_vec()
                .into(),
        })
        .await
        .unwrap();
    let inbox = w
        .store
        .mailbox(account.id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    w.store.expunge(inbox.id, &[1]).await.unwrap();
    let deleted = w
        .api("GET", "/accounts/bob@example.com/recoverable", ops, None)
        .await
        .json();
    assert_eq!(deleted[0]["subject"], "lost");
    let id = deleted[0]["id"].as_i64().unwrap();
    let nothing = w
        .api(
            "POST",
            "/accounts/bob@example.com/restore",
            ops,
            Some(json!({})),
        )
        .await;
    assert_eq!(nothing.status, StatusCode::BAD_REQUEST);
    let restored = w
        .api(
            "POST",
            "/accounts/bob@example.com/restore",
            ops,
            Some(json!({"ids": [id]})),
        )
        .await;
    assert_eq!(restored.json()["restored"][0]["folder"], "INBOX");
    assert_eq!(w.store.message_list(inbox.id).await.unwrap().len(), 1);

    assert_eq!(w.api("GET", "/queue", ops, None).await.json(), json!([]));
    assert_eq!(
        w.api("POST", "/queue/5/retry", ops, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.api("GET", "/backups", ops, None).await.status,
        StatusCode::NOT_IMPLEMENTED
    );

    assert_eq!(
        w.api("DELETE", "/domains/example.org", ops, None)
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        w.api("DELETE", "/accounts/carol@example.org", ops, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.api("DELETE", "/domains/example.org", ops, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // A revoked token stops at once.
    w.admin.remove_api_token("ops").await.unwrap();
    assert_eq!(
        w.api("GET", "/status", ops, None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_users_token_reaches_only_its_own_account() {
    let w = web().await;
    let bob = Some(w.bob.as_str());
    let me = w.api("GET", "/me", bob, None).await;
    assert_eq!(me.json()["address"], "bob@example.com");
    assert_eq!(
        w.api("GET", "/me", Some(&w.ops), None).await.status,
        StatusCode::FORBIDDEN
    );
    let policy = w
        .api("PATCH", "/me", bob, Some(json!({"pop3_policy": "delete"})))
        .await;
    assert_eq!(policy.json()["pop3_policy"], "delete");
    let sneaky = w
        .api("PATCH", "/me", bob, Some(json!({"admin": true})))
        .await;
    assert_eq!(
        sneaky.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        sneaky.body
    );
    assert_eq!(
        w.api(
            "POST",
            "/me/password",
            bob,
            Some(json!({"password": "bob's new one"}))
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let bob_account = w.admin.account("bob@example.com").await.unwrap();
    assert!(mailroom_auth::verify_password(
        &bob_account.password_hash,
        "bob's new one"
    ));
    assert!(!bob_account.admin);
    let app = w
        .api(
            "POST",
            "/me/app-passwords",
            bob,
            Some(json!({"name": "tablet"})),
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED);
    assert_eq!(
        w.api("GET", "/me/app-passwords", bob, None).await.json()[0]["name"],
        "tablet"
    );
    assert_eq!(
        w.api("GET", "/me/recoverable", bob, None).await.json(),
        json!([])
    );
}

fn form(uri: &str, cookie: Option<&str>, body: &str) -> Request<Body> {
    let mut r =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

async fn sign_in(w: &Web, address: &str, password: &str) -> Option<String> {
    let a = w
        .send(form(
            "/login",
            None,
            &format!("address={address}&password={password}&next=/account"),
        ))
        .await;
    let cookie = a.headers.get(header::SET_COOKIE)?.to_str().ok()?;
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Secure")
    );
    Some(cookie.split(';').next()?.to_string())
}

fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn pages_sign_in_check_forms_and_keep_users_out_of_the_admin() {
    let w = web().await;
    assert_eq!(w.get("/account").await.status, StatusCode::SEE_OTHER);
    assert!(sign_in(&w, "bob@example.com", "wrong").await.is_none());
    let app = w
        .admin
        .add_app_password("bob@example.com", "laptop")
        .await
        .unwrap();
    assert!(
        sign_in(&w, "bob@example.com", &app).await.is_none(),
        "app passwords are for mail programs"
    );
    let bob = sign_in(&w, "bob@example.com", "bob password")
        .await
        .expect("signed in");
    let page = |uri: &str| {
        Request::get(uri)
            .header(header::COOKIE, bob.clone())
            .body(Body::empty())
            .unwrap()
    };
    let account = w.send(page("/account")).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("bob@example.com"));
    assert_eq!(w.send(page("/admin")).await.status, StatusCode::FORBIDDEN);
    let csrf = csrf_of(&account.body);
    let forged = w
        .send(form(
            "/account/app-passwords",
            Some(&bob),
            "csrf=nope&name=x",
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let made = w
        .send(form(
            "/account/app-passwords",
            Some(&bob),
            &format!("csrf={csrf}&name=phone"),
        ))
        .await;
    assert!(made.body.contains("id=\"new-secret\""), "{}", made.body);
    let profile = w.send(page("/account/mobileconfig")).await;
    assert_eq!(
        profile.headers[header::CONTENT_TYPE],
        "application/x-apple-aspen-config"
    );
    let value: plist::Value = plist::from_bytes(profile.body.as_bytes()).unwrap();
    let mail = value.as_dictionary().unwrap()["PayloadContent"]
        .as_array()
        .unwrap()[0]
        .as_dictionary()
        .unwrap()
        .clone();
    assert_eq!(
        mail["IncomingMailServerPortNumber"].as_unsigned_integer(),
        Some(10993)
    );
    assert_eq!(
        mail["OutgoingMailServerPortNumber"].as_unsigned_integer(),
        Some(10587)
    );
    assert_eq!(mail["OutgoingMailServerUseSSL"].as_boolean(), Some(false));

    let ann = sign_in(&w, "ann@example.com", "ann password")
        .await
        .unwrap();
    let admin_page = w
        .send(
            Request::get("/admin/accounts")
                .header(header::COOKIE, ann.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(admin_page.status, StatusCode::OK);
    let csrf = csrf_of(&admin_page.body);
    let created = w
        .send(form(
            "/admin/accounts",
            Some(&ann),
            &format!("csrf={csrf}&address=erin%40example.com&password=&quota=1GiB"),
        ))
        .await;
    assert!(
        created.body.contains("id=\"new-password\""),
        "{}",
        created.body
    );
    let erin = w.admin.account("erin@example.com").await.unwrap();
    assert_eq!(erin.quota_bytes, Some(1 << 30));
    // A changed password ends every session sealed with the old one.
    w.admin
        .set_password("bob@example.com", Some("changed elsewhere"))
        .await
        .unwrap();
    assert_eq!(w.send(page("/account")).await.status, StatusCode::SEE_OTHER);
}

trait ForTest {
    async fn account_by_address_for_test(&self, address: &str) -> mailroom_store::Account;
}

impl ForTest for SqliteStore {
    async fn account_by_address_for_test(&self, address: &str) -> mailroom_store::Account {
        use mailroom_store::Directory;
        self.account_by_address(address).await.unwrap().unwrap()
    }
}

#[tokio::test]
async fn secrets_travel_only_encrypted_or_from_this_machine() {
    let w = web().await;
    let with_token = || {
        Request::get("/api/v1/domains")
            .header(header::AUTHORIZATION, format!("Bearer {}", w.ops))
            .body(Body::empty())
            .unwrap()
    };
    let sign_in = || {
        form(
            "/login",
            None,
            "address=ann@example.com&password=ann+password",
        )
    };
    let refused = send_to(&w.plain_remote, with_token()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("HTTPS"), "{}", refused.body);
    let page = send_to(&w.plain_remote, sign_in()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Sign in over HTTPS"), "{}", page.body);
    assert!(page.headers.get(header::SET_COOKIE).is_none());
    // Autoconfig carries no secret: plain HTTP is how Thunderbird asks first.
    let autoconfig = send_to(
        &w.plain_remote,
        Request::get("/mail/config-v1.1.xml?emailaddress=bob@example.com")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(autoconfig.status, StatusCode::OK);
    // From this machine (a proxy or curl on the host) plain HTTP is fine, as for IMAP.
    assert_eq!(
        send_to(&w.plain_local, with_token()).await.status,
        StatusCode::OK
    );
    let local = send_to(&w.plain_local, sign_in()).await;
    let cookie = local.headers.get(header::SET_COOKIE).expect("a session");
    assert!(
        !cookie.to_str().unwrap().contains("Secure"),
        "a cookie over plain HTTP can't be Secure"
    );
    assert_eq!(
        send_to(&w.router, with_token()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_answer_the_operator_or_the_metrics_listener() {
    let w = web().await;
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    assert_eq!(
        send_to(&w.plain_remote, get("/metrics")).await.status,
        StatusCode::FORBIDDEN
    );
    let local = send_to(&w.plain_local, get("/metrics")).await;
    assert_eq!(local.status, StatusCode::OK);
    assert!(
        local.body.contains("# TYPE mailroom_accounts gauge"),
        "{}",
        local.body
    );
    // The metrics listener answers anyone who reaches it, and only metrics and health.
    let open = send_to(&w.metrics_remote, get("/metrics")).await;
    assert_eq!(open.status, StatusCode::OK);
    assert!(open.body.contains("mailroom_accounts 2"), "{}", open.body);
    assert_eq!(
        send_to(&w.metrics_remote, get("/healthz")).await.status,
        StatusCode::OK
    );
    for elsewhere in [
        "/admin",
        "/api/v1/openapi.json",
        "/mail/config-v1.1.xml",
        "/login",
    ] {
        assert_eq!(
            send_to(&w.metrics_remote, get(elsewhere)).await.status,
            StatusCode::NOT_FOUND,
            "{elsewhere}"
        );
    }
}
