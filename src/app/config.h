// Config: every setting of `postbox serve`, from defaults < TOML file < environment < flags.
// Each file key `section.key` has the environment variable POSTBOX_SECTION_KEY and the flag
// --section-key (the most used also have short forms: --listen, --data-dir, --config).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "core/policy/access_policy.h"

namespace postbox::app {

struct Config {
  std::string listen = "127.0.0.1:9324";  // server.listen
  std::string data_dir = "./data";        // server.data_dir
  int io_threads = 2;                     // server.io_threads
  int io_timeout_seconds = 60;            // server.io_timeout_seconds
  // server.max_connections: open connections at most; 0 derives it from the open-file limit
  // (net::DefaultMaxConnections).
  int max_connections = 0;
  // server.max_connections_per_address: connections one client address may hold (0: no limit).
  int max_connections_per_address = 0;
  // server.public_url: how people and subscribers reach this server ("https://postbox.example
  // .com"), for the links in mails and SNS documents (SubscribeURL, UnsubscribeURL,
  // SigningCertURL); empty: "http://" plus the Host header of the request.
  std::string public_url;
  std::string storage_engine = "auto";  // storage.engine: auto | log | rocksdb
  // storage.reserve_mib: space the log engine sets aside, given back when the disk fills up
  // so that deletes and garbage collection can still free space (0: none).
  int storage_reserve_mib = 64;
  // storage.max_pending_mib: while this much waits for storage, new sends, publishes and SES
  // mail are refused with a throttling error (storage/write_admission.h).
  int storage_max_pending_mib = 64;
  int storage_segment_mib = 32;          // storage.segment_mib: log segment size
  int storage_retry_interval_ms = 1000;  // storage.retry_interval_ms: re-checks a failed disk
  // storage.repair (--repair): start on a damaged log, keeping what is readable.
  bool storage_repair = false;
  std::string region = "us-east-1";         // aws.region
  std::string account_id = "000000000000";  // aws.account_id
  // auth.access_key_id / auth.secret_access_key: the credentials printed in development mode;
  // in sigv4 mode a key of account aws.account_id, unless the secret is the published default.
  std::string access_key_id = "postbox";
  std::string secret_access_key = "postbox-dev-secret";
  // auth.mode: "sigv4" (the default) accepts only requests signed with a configured key (see
  // app/access_keys.h for where keys come from); "dev" (also `serve --dev`) accepts any
  // credentials.
  std::string auth_mode = "sigv4";
  struct AuthKey {
    std::string access_key;
    std::string secret_key;  // never logged
    std::string account;
    // An admin may do anything in its account; otherwise `policy` (IAM's language) says what
    // the key may do, and without one it may do nothing.
    bool admin = true;
    std::shared_ptr<const core::policy::Document> policy;
    // Requests a second this key may make (a burst of one second's worth), when its table
    // sets it (a positive number); 0 (not set): auth.requests_per_second.
    double requests_per_second = 0;
  };
  std::vector<AuthKey> auth_keys;  // [[auth.keys]] in the config file
  // auth.requests_per_second: each key's request rate unless its table sets its own; beyond
  // it requests are throttled (AWS's throttling error). 0: no limit.
  double auth_requests_per_second = 0;
  // auth.credentials_file: a TOML file of [[keys]] tables (as [[auth.keys]]), kept out of the
  // config file; refused when group or others may read it.
  std::string auth_credentials_file;
  // outbound.*: where deliveries to URLs that API callers chose (HTTP/S subscriptions, chat
  // webhooks) may connect. Loopback, private, link-local, metadata and reserved addresses are
  // refused unless allow_private is set or the host (by name or address) is in allow_hosts
  // (a TOML array, or a comma-separated list in the environment or a flag). `serve --dev`
  // also allows loopback.
  bool outbound_allow_private = false;
  std::vector<std::string> outbound_allow_hosts;
  bool outbound_allow_loopback = false;  // only through --dev
  // tls.*: an HTTPS listener beside the plain one (host:port; empty: none), with a PEM
  // certificate chain and its private key. TLS 1.2 and 1.3 only.
  std::string tls_listen;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string log_format = "text";      // log.format: text | json
  int metrics_max_queue_series = 1000;  // metrics.max_queue_series: queues with their own series
  int sns_outbox_max_mib_per_endpoint = 64;  // sns.outbox_max_mib_per_endpoint
  // sqs.max_in_flight_messages(_fifo): messages one queue may have in flight; AWS's quotas.
  int sqs_max_in_flight_messages = 120'000;
  int sqs_max_in_flight_messages_fifo = 120'000;
  // sns.tls_ca_file: a PEM file of CA certificates that https subscribers' certificates are
  // verified against instead of the system's (a private CA); empty: the system's.
  std::string sns_tls_ca_file;
  // email.*: the SMTP relay every mail goes through (SNS email subscriptions). smtp_url is
  // smtp://host:port (STARTTLS when offered; always with require_tls) or smtps://host:port;
  // empty: mail deliveries fail and are retried, then dead-lettered. username empty: no AUTH.
  std::string email_smtp_url;
  std::string email_username;
  std::string email_password;  // never logged
  std::string email_from = "postbox <no-reply@postbox.localhost>";
  bool email_require_tls = false;
  std::string email_tls_ca_file;   // PEM CA certificates for the relay instead of the system's
  int email_timeout_seconds = 60;  // one SMTP session at most
  // SES: email.require_verified_identities enforces AWS's rule (a sender must be verified, by a
  // link mailed to it); email.max_per_second / max_per_day are the sending quota (per
  // recipient); email.ses_failure_queue_arn takes SES mail that could not be delivered.
  bool email_require_verified_identities = false;
  int email_max_per_second = 14;
  int email_max_per_day = 50000;
  std::string email_ses_failure_queue_arn;
  // sms.*: SMS providers (SNS Publish to a phone number, sms subscriptions). default_provider
  // (sens | twilio | webhook; empty: SMS is off) takes every number no route names; routes
  // sends numbers by their leading digits to a provider: "82:sens,1:twilio" (longest prefix
  // wins). price_per_message (USD) prices each SMS for MonthlySpendLimit; failure_queue_arn
  // takes SMS to numbers that could not be sent (Publish to a phone number has no other).
  // Each provider's max_per_second bounds its requests (0: no bound).
  std::string sms_default_provider;
  std::string sms_routes;
  double sms_price_per_message = 0.01;
  std::string sms_failure_queue_arn;
  std::string sms_sens_endpoint = "https://sens.apigw.ntruss.com";
  std::string sms_sens_service_id;
  std::string sms_sens_access_key;
  std::string sms_sens_secret_key;  // never logged
  std::string sms_sens_from;
  int sms_sens_max_per_second = 20;
  std::string sms_twilio_endpoint = "https://api.twilio.com";
  std::string sms_twilio_account_sid;
  std::string sms_twilio_auth_token;  // never logged
  std::string sms_twilio_from;
  int sms_twilio_max_per_second = 20;
  std::string sms_webhook_url;
  std::string sms_webhook_secret;  // never logged
  int sms_webhook_max_per_second = 0;
  // push.fcm.*: Firebase Cloud Messaging. service_account_file is the key platform
  // applications use when their PlatformCredential is empty; endpoint is FCM's API host.
  std::string push_fcm_service_account_file;
  std::string push_fcm_endpoint = "https://fcm.googleapis.com";
  // delivery.*: the retry policy of email, SMS and push deliveries (AWS's fixed one: 50 retries
  // from 10 s growing to 600 s apart, about 6 hours). Tests shorten it.
  int delivery_retry_min_delay_seconds = 10;
  int delivery_retry_max_delay_seconds = 600;
  int delivery_retries = 50;
};

// sms.default_provider's names: sens, twilio, webhook.
bool IsSmsProvider(const std::string& name);
// sms.routes: "82:sens, 1:twilio" as (digits, provider) pairs; nullopt when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseSmsRoutes(
    const std::string& text);

// The [[keys]] of a credentials file; kInvalidParameterValue when it cannot be read, is
// malformed, or may be read by anyone but its owner (mode & 077).
Result<std::vector<Config::AuthKey>> ReadCredentialsFile(const std::string& path);

// Parses `serve` flags (argv without the subcommand), the file named by --config, and the
// environment. Returns kInvalidParameterValue with a message for the user on bad input.
Result<Config> LoadConfig(const std::vector<std::string>& args, char** environ_vars);

}  // namespace postbox::app
