// postbox: the server binary. `postbox serve` wires storage, core, the SQS and SNS front-ends,
// the SNS delivery outbox and the HTTP server together, prints where it is and which
// credentials to use, and runs until SIGTERM/SIGINT (then: stop accepting, finish in-flight
// requests, flush storage, exit 0).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>  // Asio's awaitable uses std::exchange without including it

#include "app/access_keys.h"
#include "app/config.h"
#include "app/health.h"
#include "app/metrics_page.h"
#include "app/open_storage.h"
#include "app/sms_setup.h"
#include "base/clock.h"
#include "channels/curl_sender.h"
#include "core/config/config_store.h"
#include "core/email/email_service.h"
#include "core/push/platform_service.h"
#include "core/push/push_channel.h"
#include "core/queue/queue_service.h"
#include "core/sms/sms_service.h"
#include "core/topic/delivery_outbox.h"
#include "core/topic/message_signer.h"
#include "core/topic/topic_service.h"
#include "net/http_server.h"
#include "storage/data_dir_lock.h"
#include "storage/fault_injection.h"
#include "storage/file_system.h"
#include "storage/write_admission.h"
#include "wire/ses/ses_frontend.h"
#include "wire/sns/sns_frontend.h"
#include "wire/sqs/sqs_frontend.h"

extern char** environ;

namespace postbox::app {
namespace {

namespace asio = boost::asio;

constexpr char kVersion[] = "0.1.0";
constexpr int kDrainSeconds = 25;  // longest wait for in-flight requests at shutdown

void RunAfter(asio::io_context& io, int64_t millis, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(millis));
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

void SweepPeriodically(asio::io_context& io, core::QueueService& service) {
  RunAfter(io, 1000, [&io, &service] {
    service.SweepExpired();
    SweepPeriodically(io, service);
  });
}

// Message move tasks advance in small steps, so that MaxNumberOfMessagesPerSecond is smooth.
void AdvanceMoveTasksPeriodically(asio::io_context& io, core::MessageMoveTasks& tasks) {
  RunAfter(io, 100, [&io, &tasks] {
    tasks.Advance();
    AdvanceMoveTasksPeriodically(io, tasks);
  });
}

// HTTP/S deliveries of SNS messages go out in small steps, so that retries and throttles keep
// their times.
// A URL without its user:password@ part, for logs.
// The Firebase service-account key file push.fcm.service_account_file names.
Result<channels::ServiceAccount> ReadServiceAccount(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Status(ErrorCode::kInvalidParameterValue, "cannot read " + path);
  std::stringstream text;
  text << file.rdbuf();
  return channels::ParseServiceAccount(text.str());
}

// SigV4 mode: every gathered key (app/access_keys.h); development mode: none (any credentials
// are accepted).
std::unique_ptr<wire::auth::Authenticator> MakeAuthenticator(const Config& config,
                                                             const AccessKeySet& keys) {
  std::vector<wire::auth::AccessKey> accepted;
  for (const Config::AuthKey& key : keys.keys) {
    const double rate =
        key.requests_per_second > 0 ? key.requests_per_second : config.auth_requests_per_second;
    accepted.push_back(
        {key.access_key, key.secret_key, key.account, "", key.admin, key.policy, rate});
  }
  return std::make_unique<wire::auth::Authenticator>(std::move(accepted), SystemClock::Get());
}

// The start-up lines about credentials: in development mode the pair to copy; in sigv4 mode
// how many keys there are, or, on the start that made the first one, that key (shown once).
std::string CredentialsBanner(const Config& config, const AccessKeySet* keys) {
  auto exports = [&](const std::string& id, const std::string& secret) {
    return "    AWS_ACCESS_KEY_ID=" + id + " AWS_SECRET_ACCESS_KEY=" + secret +
           " AWS_DEFAULT_REGION=" + config.region;
  };
  if (keys == nullptr) {
    return "  DEVELOPMENT MODE (auth.mode = \"dev\"): any credentials are accepted; for "
           "example:\n" +
           exports(config.access_key_id, config.secret_access_key);
  }
  if (keys->created) {
    return "  authentication: SigV4. No key was configured, so an admin key of account " +
           keys->created->account + " was made and stored in " + keys->data_dir_file +
           " (mode 0600); its secret is shown only this once:\n" +
           exports(keys->created->access_key, keys->created->secret_key);
  }
  std::string text =
      "  authentication: SigV4 (auth.mode = \"sigv4\"): " + std::to_string(keys->keys.size()) +
      " access key(s) configured (secrets are never shown; `serve --dev` "
      "accepts any)";
  if (!keys->data_dir_file.empty()) {
    text += "\n  the admin key made at the first start is still accepted: see " +
            keys->data_dir_file + " (delete it to retire the key)";
  }
  return text;
}

std::string RedactUserInfo(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t authority_end = url.find('/', scheme + 3);
  size_t at = url.rfind('@', authority_end == std::string::npos ? url.size() : authority_end);
  if (at == std::string::npos || at < scheme + 3) return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

void AdvanceDeliveriesPeriodically(asio::io_context& io, core::DeliveryOutbox& outbox) {
  RunAfter(io, 100, [&io, &outbox] {
    outbox.Advance();
    AdvanceDeliveriesPeriodically(io, outbox);
  });
}

// Runs an io_context on `count` threads until it is stopped. Joins them when destroyed, after
// stopping the io_context (a start-up that fails while they run).
class IoThreads {
 public:
  IoThreads(asio::io_context& io, int count) : io_(io) {
    try {
      for (int i = 0; i < std::max(count, 1); ++i) threads_.emplace_back([&io] { io.run(); });
    } catch (...) {  // no thread may be left joinable: the vector's destructor would terminate
      io_.stop();
      Join();
      throw;
    }
  }
  ~IoThreads() {
    io_.stop();
    Join();
  }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;
  // Waits until the io_context is stopped (DrainThenStop) and every thread has returned.
  void Join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  asio::io_context& io_;
  std::vector<std::thread> threads_;
};

// Polls until no request is in flight on any listener (null ones are skipped), or the
// deadline passes, then stops the I/O loop.
void DrainThenStop(asio::io_context& io, std::vector<net::HttpServer*> servers,
                   int64_t deadline_ms) {
  int64_t in_flight = 0;
  for (net::HttpServer* server : servers) in_flight += server ? server->in_flight() : 0;
  if (in_flight == 0 || SystemClock::Get().MonotonicMillis() > deadline_ms) {
    io.stop();
    return;
  }
  RunAfter(io, 20, [&io, servers = std::move(servers), deadline_ms]() mutable {
    DrainThenStop(io, std::move(servers), deadline_ms);
  });
}

// The real file system, or, when a test names a fault rules file (POSTBOX_TEST_FAULTS_FILE,
// storage/fault_injection.h), one that fails the calls those rules pick.
storage::FileSystem& FileSystemForServe() {
  const char* rules = std::getenv("POSTBOX_TEST_FAULTS_FILE");
  if (rules == nullptr || *rules == '\0') return storage::PosixFileSystem();
  static storage::FaultInjectingFileSystem faulty(storage::PosixFileSystem());
  faulty.WatchRulesFile(rules);
  spdlog::warn(
      "event=fault_injection file={} note=\"test mode: file operations may be made to fail\"",
      rules);
  return faulty;
}

bool SplitListen(const std::string& listen, std::string* host, uint16_t* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    *port = uint16_t(p);
  } catch (const std::exception&) {
    return false;
  }
  return !host->empty();
}

// Raises the soft open-file limit to the hard one (connections are descriptors too) and
// returns it.
uint64_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? uint64_t(1) << 20 : uint64_t(limit.rlim_cur);
}

int Serve(const Config& config) {
  if (config.log_format == "json") {
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  }
  std::string host;
  uint16_t port = 0;
  if (!SplitListen(config.listen, &host, &port)) {
    std::cerr << "postbox: --listen must be host:port, got '" << config.listen << "'\n";
    return 2;
  }
  std::error_code fs_error;
  std::string data_dir =
      std::filesystem::absolute(config.data_dir, fs_error).lexically_normal().string();
  if (Status s = storage::CreateDirectories(storage::PosixFileSystem(), data_dir); !s.ok()) {
    std::cerr << "postbox: " << s.message() << "\n";
    return 1;
  }
  // Before anything else reads or writes the directory: a second server must touch nothing.
  auto lock = storage::DataDirLock::Acquire(data_dir);
  if (!lock.ok()) {
    std::cerr << "postbox: " << lock.status().message() << "\n";
    return 1;
  }
  const uint64_t open_file_limit = RaiseOpenFileLimit();
  asio::io_context io(config.io_threads);

  // The listeners start before the state is loaded, so that supervisors can tell a server
  // loading a large log (/healthz 200, /readyz 503) from a dead one. Until `serving` is set,
  // every other request is answered 503 (AWS SDKs retry it).
  std::atomic<const net::RequestHandler*> serving{nullptr};
  net::RequestHandler gate = [&serving](wire::HttpRequest request,
                                        std::function<void(wire::HttpResponse)> respond) {
    if (const net::RequestHandler* handler = serving.load(std::memory_order_acquire)) {
      return (*handler)(std::move(request), std::move(respond));
    }
    respond(LoadingResponse(request.method, request.Path()));
  };
  net::ServerOptions options;
  options.address = host;
  options.port = port;
  options.io_timeout_seconds = config.io_timeout_seconds;
  options.io_threads = config.io_threads;
  options.max_connections = config.max_connections > 0
                                ? config.max_connections
                                : net::DefaultMaxConnections(open_file_limit);
  options.max_connections_per_address = config.max_connections_per_address;
  // Both listeners draw on one open-file budget: with TLS each gets half of the cap.
  if (!config.tls_listen.empty())
    options.max_connections = std::max(options.max_connections / 2, 16);
  net::HttpServer server(io, options, gate);
  auto bound = server.Listen();
  if (!bound.ok()) {
    std::cerr << "postbox: " << bound.status().message() << "\n";
    return 1;
  }
  // The HTTPS listener (tls.listen), beside the plain one, serving the same requests.
  std::unique_ptr<net::HttpServer> tls_server;
  std::string tls_host;
  uint16_t tls_port = 0;
  if (!config.tls_listen.empty()) {
    net::ServerOptions tls_options = options;
    if (!SplitListen(config.tls_listen, &tls_host, &tls_options.port)) {
      std::cerr << "postbox: tls.listen must be host:port, got '" << config.tls_listen << "'\n";
      return 1;
    }
    tls_options.address = tls_host;
    tls_options.tls_cert_file = config.tls_cert_file;
    tls_options.tls_key_file = config.tls_key_file;
    tls_server = std::make_unique<net::HttpServer>(io, tls_options, gate);
    auto tls_bound = tls_server->Listen();
    if (!tls_bound.ok()) {
      std::cerr << "postbox: " << tls_bound.status().message() << "\n";
      return 1;
    }
    tls_port = *tls_bound;
    tls_server->Start();
  }
  server.Start();
  // From here until it returns, the I/O threads run (all of them: this thread loads).
  IoThreads io_threads(io, config.io_threads);
  // A start-up that fails from here stops the I/O threads before anything they might reach
  // (storage callbacks, the services) is destroyed.
  auto fail = [&io, &io_threads] {
    io.stop();
    io_threads.Join();
    return 1;
  };
  const std::string endpoint = "http://" + host + ":" + std::to_string(*bound);
  std::printf("postbox: loading the state in %s; %s/healthz and /readyz answer meanwhile\n",
              data_dir.c_str(), endpoint.c_str());
  std::fflush(stdout);
  const int64_t load_started_ms = SystemClock::Get().MonotonicMillis();

  storage::FileSystem& fs = FileSystemForServe();
  StorageSettings settings;
  settings.engine = config.storage_engine;
  // Storage callbacks (the answers to durable writes) run on the I/O loop, a group at a time.
  settings.log.run_callbacks = [&io](std::function<void()> fn) { asio::post(io, std::move(fn)); };
  settings.log.segment_bytes = uint64_t(config.storage_segment_mib) << 20;
  settings.log.reserve_bytes = uint64_t(config.storage_reserve_mib) << 20;
  settings.log.retry_interval = std::chrono::milliseconds(config.storage_retry_interval_ms);
  settings.log.repair = config.storage_repair;
  settings.log.fs = &fs;
  auto storage = OpenStorage(std::move(settings), data_dir);
  if (!storage.ok()) {
    std::cerr << "postbox: cannot open storage in " << data_dir << ": "
              << storage.status().message() << "\n";
    return fail();
  }
  for (const std::string& note : storage->recovery.notes) {
    spdlog::warn("event=storage_recovery note=\"{}\"", note);
  }
  // Every service writes through the admission bound: a disk slower than the requests makes
  // sends wait in memory only up to storage.max_pending_mib, then they are throttled.
  storage::WriteAdmission admission(*storage->engine, uint64_t(config.storage_max_pending_mib)
                                                          << 20);
  storage::Engine& engine = admission;
  // Every configuration change of every service is stored through it, in one order.
  core::ConfigStore config_store(engine);
  core::QueueService service(engine, SystemClock::Get(), &config_store);
  service.set_in_flight_limits(
      {config.sqs_max_in_flight_messages, config.sqs_max_in_flight_messages_fifo});
  if (Status s = service.Load(); !s.ok()) {
    std::cerr << "postbox: cannot load state from " << data_dir << ": " << s.ToString() << "\n";
    return fail();
  }

  core::MessageMoveTasks move_tasks(service, engine, SystemClock::Get());
  if (Status s = move_tasks.Load(); !s.ok()) {
    std::cerr << "postbox: cannot load message move tasks: " << s.ToString() << "\n";
    return fail();
  }

  auto signer = core::MessageSigner::Open(data_dir + "/sns-signing", fs);
  if (!signer.ok()) {
    std::cerr << "postbox: " << signer.status().message() << "\n";
    return fail();
  }
  channels::CurlOptions curl_options;
  curl_options.ca_file = config.sns_tls_ca_file;
  curl_options.smtp = {config.email_smtp_url, config.email_username, config.email_password,
                       config.email_require_tls, config.email_tls_ca_file};
  curl_options.smtp_timeout_ms = long(config.email_timeout_seconds) * 1000;
  curl_options.outbound = {config.outbound_allow_private, config.outbound_allow_loopback,
                           config.outbound_allow_hosts};
  channels::CurlSender http_sender(curl_options);
  core::DeliveryOutbox outbox(engine, SystemClock::Get(), http_sender, service,
                              size_t(config.sns_outbox_max_mib_per_endpoint) << 20);
  core::EmailChannel email_channel(http_sender, SystemClock::Get(), config.email_from);
  core::RawMailChannel raw_mail_channel(http_sender);
  if (!config.email_smtp_url.empty()) {  // without a relay, mail is neither stored nor sent
    outbox.AddChannel("email", &email_channel);
    outbox.AddChannel("email-json", &email_channel);
    outbox.AddChannel("ses", &raw_mail_channel);
  }
  core::SmsOptions sms_options;
  sms_options.retry =
      core::ManagedRetryPolicy(config.delivery_retry_min_delay_seconds,
                               config.delivery_retry_max_delay_seconds, config.delivery_retries);
  sms_options.price_per_message = config.sms_price_per_message;
  sms_options.failure_queue_arn = config.sms_failure_queue_arn;
  core::SmsService sms(engine, SystemClock::Get(), config_store, outbox, sms_options);
  SmsSetup sms_setup = SetUpSms(config, http_sender, SystemClock::Get(), sms);
  if (sms_setup.channel) outbox.AddChannel("sms", sms_setup.channel.get());
  if (Status s = sms.Load(); !s.ok()) {
    std::cerr << "postbox: cannot load SMS settings: " << s.ToString() << "\n";
    return fail();
  }
  core::PushOptions push_options;
  push_options.retry = sms_options.retry;
  if (!config.push_fcm_service_account_file.empty()) {
    auto account = ReadServiceAccount(config.push_fcm_service_account_file);
    if (!account.ok()) {
      std::cerr << "postbox: push.fcm.service_account_file: " << account.status().message() << "\n";
      return fail();
    }
    push_options.default_account = *account;
  }
  core::PlatformService platforms(engine, SystemClock::Get(), config_store, outbox, push_options);
  channels::FcmClient fcm(http_sender, SystemClock::Get(), config.push_fcm_endpoint);
  core::PushChannel push_channel(platforms, fcm);
  outbox.AddChannel("application", &push_channel);
  if (Status s = platforms.Load(); !s.ok()) {
    std::cerr << "postbox: cannot load platform applications: " << s.ToString() << "\n";
    return fail();
  }
  if (Status s = outbox.Load(); !s.ok()) {
    std::cerr << "postbox: cannot load pending SNS deliveries: " << s.ToString() << "\n";
    return fail();
  }
  core::TopicService topics(engine, SystemClock::Get(), service, **signer, &outbox, &config_store);
  topics.SetManagedRetryPolicy(core::ManagedRetryPolicy(config.delivery_retry_min_delay_seconds,
                                                        config.delivery_retry_max_delay_seconds,
                                                        config.delivery_retries));
  if (config.email_smtp_url.empty()) {
    spdlog::warn(
        "event=email_relay_missing effect=\"email subscriptions are stored but get no mail, and "
        "SES sends are refused, until email.smtp_url is set\"");
  } else {
    spdlog::info("event=email_relay url={} auth={} require_tls={}",
                 RedactUserInfo(config.email_smtp_url), !config.email_username.empty(),
                 config.email_require_tls);
  }
  if (Status s = topics.Load(); !s.ok()) {
    std::cerr << "postbox: cannot load topics: " << s.ToString() << "\n";
    return fail();
  }
  wire::RequestMetrics request_metrics;
  std::optional<AccessKeySet> access_keys;
  std::unique_ptr<wire::auth::Authenticator> authenticator;
  if (config.auth_mode == "sigv4") {
    auto gathered = GatherAccessKeys(config, data_dir);
    if (!gathered.ok()) {
      std::cerr << "postbox: " << gathered.status().message() << "\n";
      return fail();
    }
    access_keys = std::move(*gathered);
    authenticator = MakeAuthenticator(config, *access_keys);
  }
  wire::sns::SnsFrontend sns(topics, {config.region, config.account_id, &request_metrics,
                                      config.public_url, &sms, &platforms, authenticator.get()});
  core::EmailOptions email_options;
  email_options.require_verified = config.email_require_verified_identities;
  email_options.from = config.email_from;
  email_options.max_per_second = config.email_max_per_second;
  email_options.max_per_day = config.email_max_per_day;
  email_options.failure_queue_arn = config.email_ses_failure_queue_arn;
  email_options.retry =
      core::ManagedRetryPolicy(config.delivery_retry_min_delay_seconds,
                               config.delivery_retry_max_delay_seconds, config.delivery_retries);
  core::EmailService email(engine, SystemClock::Get(), config_store, outbox, email_options);
  if (Status s = email.Load(); !s.ok()) {
    std::cerr << "postbox: cannot load SES identities: " << s.ToString() << "\n";
    return fail();
  }
  wire::ses::SesFrontend ses(email, {config.region, config.account_id, &request_metrics,
                                     config.public_url, authenticator.get()});
  const std::string certificate_path = "/" + (*signer)->certificate_file_name();
  wire::sqs::Runtime runtime{
      [&io](std::function<void()> fn) { asio::post(io, std::move(fn)); },
      [&io](int64_t millis, std::function<void()> fn) { RunAfter(io, millis, std::move(fn)); }};
  wire::sqs::FrontendOptions sqs_options;
  sqs_options.default_region = config.region;
  sqs_options.default_account = config.account_id;
  sqs_options.metrics = &request_metrics;
  sqs_options.authenticator = authenticator.get();
  wire::sqs::SqsFrontend sqs(service, move_tasks, runtime, sqs_options);
  MetricsSources metrics;
  metrics.requests = &request_metrics;
  metrics.queues = &service;
  metrics.outbox = &outbox;
  metrics.sms = sms_setup.channel.get();
  metrics.push = &push_channel;
  metrics.fcm = &fcm;
  metrics.engine = &engine;
  metrics.admission = &admission;
  metrics.log = storage->log;
  metrics.clock = &SystemClock::Get();
  metrics.data_dir = data_dir;
  metrics.max_queue_series = size_t(config.metrics_max_queue_series);
  metrics.authenticator = authenticator.get();
  metrics.outbound_refusals = &http_sender.guard_refusals();
  std::atomic<bool> ready{false};
  const net::RequestHandler handler =
      [&sqs, &sns, &ses, &ready, &signer, &certificate_path, &engine, &metrics](
          wire::HttpRequest request, std::function<void(wire::HttpResponse)> respond) {
        std::string_view path = request.Path();
        if (request.method == "GET" && path == "/metrics") {
          wire::HttpResponse r;
          r.content_type = wire::PrometheusText::kContentType;
          r.body = RenderMetrics(metrics);
          return respond(std::move(r));
        }
        if (request.method == "GET" && (path == "/healthz" || path == "/readyz")) {
          return respond(HealthResponse(path == "/healthz" ? Probe::kLiveness : Probe::kReadiness,
                                        ready.load(), engine.Health()));
        }
        if (request.method == "GET" && path == certificate_path) {
          // SigningCertURL: the certificate subscribers verify SNS message signatures with.
          wire::HttpResponse r;
          r.content_type = "application/x-pem-file";
          r.body = (*signer)->certificate_pem();
          return respond(std::move(r));
        }
        if (wire::ses::SesFrontend::IsSesRequest(request)) {
          return ses.Handle(request, std::move(respond));
        }
        if (wire::sns::SnsFrontend::IsSnsRequest(request))
          return sns.Handle(request, std::move(respond));
        sqs.Handle(request, std::move(respond));
      };
  metrics.server = &server;
  if (tls_server) {
    metrics.tls_server = tls_server.get();
    std::printf("postbox: listening on https://%s:%u (TLS; connections: at most %d)\n",
                tls_host.c_str(), unsigned(tls_port), tls_server->max_connections());
  }
  SweepPeriodically(io, service);
  AdvanceMoveTasksPeriodically(io, move_tasks);
  AdvanceDeliveriesPeriodically(io, outbox);

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("event=shutdown signal={} in_flight={}", signal,
                 server.in_flight() + (tls_server ? tls_server->in_flight() : 0));
    ready.store(false);
    server.StopAccepting();
    if (tls_server) tls_server->StopAccepting();
    DrainThenStop(io, {&server, tls_server.get()},
                  SystemClock::Get().MonotonicMillis() + kDrainSeconds * 1000);
  });

  spdlog::info("event=state_loaded millis={}",
               SystemClock::Get().MonotonicMillis() - load_started_ms);
  // Ready before the line that tells clients (and the tests' harness) to come.
  serving.store(&handler, std::memory_order_release);
  ready.store(true);
  std::printf(
      "postbox %s\n"
      "  data directory: %s (storage: %s)\n"
      "  region: %s, account: %s\n"
      "%s\n"
      "  try: aws --endpoint-url %s sqs create-queue --queue-name orders\n"
      "  connections: at most %d (open-file limit %llu)\n"
      "postbox: listening on %s\n",
      kVersion, data_dir.c_str(), storage->description.c_str(), config.region.c_str(),
      config.account_id.c_str(),
      CredentialsBanner(config, access_keys ? &*access_keys : nullptr).c_str(), endpoint.c_str(),
      server.max_connections(), static_cast<unsigned long long>(open_file_limit), endpoint.c_str());
  std::fflush(stdout);

  io_threads.Join();
  // Deliveries cut short here stay in the outbox and resume at the next start.
  http_sender.Stop();

  Status flushed = engine.Flush();
  if (!flushed.ok()) {
    spdlog::error("event=flush_failed message=\"{}\"", flushed.message());
    return 1;
  }
  spdlog::info("event=stopped");
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--version" || args[0] == "version")) {
    std::printf("postbox %s\n", kVersion);
    return 0;
  }
  if (args.empty() || args[0] != "serve") {
    std::fprintf(stderr,
                 "usage: postbox serve [--listen HOST:PORT] [--data-dir DIR] "
                 "[--config FILE] [--help]\n");
    return 2;
  }
  args.erase(args.begin());
  auto config = LoadConfig(args, environ);
  if (!config.ok()) {
    bool help = config.status().code() == ErrorCode::kMissingParameter;
    std::fprintf(help ? stdout : stderr, "%s\n", config.status().message().c_str());
    return help ? 0 : 2;
  }
  return Serve(*config);
}

}  // namespace
}  // namespace postbox::app

int main(int argc, char** argv) { return postbox::app::Main(argc, argv); }
