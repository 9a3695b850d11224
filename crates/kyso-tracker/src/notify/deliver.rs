//! Delivery of one claimed message, blocking (callers run it on tokio's blocking pool): e-mail
//! over SMTP (lettre's blocking transport, plain SMTP), SMS and Zalo as a JSON POST to the
//! configured gateway (kyso-authority's bounded std HTTP client). The JSON shape is documented in
//! docs/NOTIFICATIONS.md; errors name no recipient in clear.

use kyso_authority::online::http::{post_bearer, Bounds};
use kyso_authority::online::reach::Reach;
use kyso_store::notify::Claimed;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// Where messages go: what `[notify]` in kyso.toml says, with the gateway token read from its
/// environment variable.
#[derive(Clone, Debug, Default)]
pub struct Delivery {
    pub smtp: Option<Smtp>,
    pub gateway: Option<Gateway>,
}

#[derive(Clone, Debug)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// The sender mailbox, e.g. `UBND xã Hiệp Lực <thongbao@hiepluc.gov.vn>`.
    pub from: String,
}

#[derive(Clone)]
pub struct Gateway {
    /// `http://…`: SMS and Zalo messages are POSTed here.
    pub url: String,
    /// Bearer token ('' for none).
    pub token: String,
}

impl std::fmt::Debug for Gateway {
    // never the token
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("url", &self.url).finish_non_exhaustive()
    }
}

/// The whole SMTP or HTTP exchange of one message.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Nothing configured for this channel: the message is given back, not counted as an attempt.
    NotConfigured,
    /// Worth retrying (connection refused, timeout, 4xx/5xx from the relay or the gateway).
    Temporary(String),
    /// Retrying cannot help (an address the relay refuses to parse).
    Permanent(String),
}

impl Delivery {
    /// Whether a channel can be delivered.
    pub fn serves(&self, channel: &str) -> bool {
        match channel {
            "email" => self.smtp.is_some(),
            "sms" | "zalo" => self.gateway.is_some(),
            _ => false,
        }
    }

    /// Delivers one message (blocking).
    pub fn send(&self, m: &Claimed) -> Result<(), Failure> {
        match m.channel.as_str() {
            "email" => send_email(self.smtp.as_ref().ok_or(Failure::NotConfigured)?, m),
            "sms" | "zalo" => send_gateway(self.gateway.as_ref().ok_or(Failure::NotConfigured)?, m),
            other => Err(Failure::Permanent(format!("unknown channel {other}"))),
        }
    }
}

fn send_email(smtp: &Smtp, m: &Claimed) -> Result<(), Failure> {
    let from: Mailbox = smtp.from.parse().map_err(|e| Failure::Permanent(format!("smtp_from: {e}")))?;
    let to: Mailbox = m
        .recipient
        .parse()
        .map_err(|_| Failure::Permanent(format!("{} is not an e-mail address", m.recipient_masked)))?;
    let email = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| Failure::Permanent(format!("message: {e}")))?;
    let mailer = SmtpTransport::builder_dangerous(smtp.host.as_str()).port(smtp.port).timeout(Some(TIMEOUT)).build();
    mailer.send(&email).map(|_| ()).map_err(|e| {
        // lettre's errors carry the relay's reply, not the address
        let text = format!("SMTP {}:{}: {e}", smtp.host, smtp.port).replace(&m.recipient, &m.recipient_masked);
        if e.is_permanent() {
            Failure::Permanent(text)
        } else {
            Failure::Temporary(text)
        }
    })
}

/// The gateway's request body (docs/NOTIFICATIONS.md).
#[derive(serde::Serialize)]
struct GatewayMessage<'a> {
    /// `kyso-<outbox id>`: the same on every retry, so the gateway can drop a repeat.
    message_id: String,
    channel: &'a str,
    to: &'a str,
    text: &'a str,
    subject: &'a str,
}

fn send_gateway(g: &Gateway, m: &Claimed) -> Result<(), Failure> {
    let body = serde_json::to_vec(&GatewayMessage {
        message_id: format!("kyso-{}", m.id),
        channel: &m.channel,
        to: &m.recipient,
        text: &m.body,
        subject: &m.subject,
    })
    .map_err(|e| Failure::Permanent(e.to_string()))?;
    // the gateway is the operator's own configuration, not a URL from an upload: any address
    let bounds =
        Bounds { timeout: TIMEOUT, max_bytes: 64 << 10, max_redirects: 0, reach: Reach::configured_destination() };
    post_bearer(&g.url, "application/json", &g.token, &body, &bounds)
        .map(|_| ())
        .map_err(|e| Failure::Temporary(format!("gateway: {e}")))
}
