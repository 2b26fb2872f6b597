#include "net/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <utility>  // Asio's awaitable uses std::exchange without including it

#include "net/response_head.h"

namespace postbox::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kReadBufferBytes = 64 * 1024;

template <typename Token>
auto AsyncHandle(const RequestHandler& handler, wire::HttpRequest request,
                 asio::any_io_executor executor, Token&& token) {
  return asio::async_initiate<Token, void(wire::HttpResponse)>(
      [&handler, executor](auto completion, wire::HttpRequest req) {
        struct Pending {
          decltype(completion) resume;
          asio::any_io_executor executor;
          std::atomic<bool> answered{false};
        };
        auto pending = std::make_shared<Pending>(std::move(completion), executor);
        auto respond = [pending](wire::HttpResponse response) {
          if (pending->answered.exchange(true)) return;  // at most one answer per request
          // Resume the session on its own executor, whatever thread answered.
          asio::post(pending->executor, [pending, response = std::move(response)]() mutable {
            pending->resume(std::move(response));
          });
        };
        // Exceptions mean bugs (expected failures travel as Status): log them and answer 500
        // rather than drop the connection with the request still counted as in flight.
        try {
          handler(std::move(req), respond);
        } catch (const std::exception& e) {
          spdlog::error("event=handler_exception what=\"{}\"", e.what());
          wire::HttpResponse error;
          error.status = 500;
          error.content_type = "text/plain";
          error.body = "internal error\n";
          respond(std::move(error));
        }
      },
      token, std::move(request));
}

wire::HttpRequest ToWire(http::request<http::string_body>&& in, const std::string& remote,
                         bool secure) {
  wire::HttpRequest out;
  out.secure = secure;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  out.headers.reserve(size_t(std::distance(in.begin(), in.end())));
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (char& c : name) c = char(std::tolower(uint8_t(c)));
    out.AddHeader(std::move(name), std::string(field.value()));
  }
  out.body = std::move(in.body());  // bodies are up to megabytes: moved, not copied
  out.remote_address = remote;
  return out;
}

using Clock = std::chrono::steady_clock;

// A connection's socket and the one timer that guards it. Each read and write only moves
// `deadline` forward; the watchdog wakes at the deadline it last saw and closes the socket
// if the current one has passed. (beast::tcp_stream armed and cancelled a timer for every
// read and write: a timer-queue insert, a cancel and one more completion per operation.)
struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)), watchdog(socket.get_executor()) {}

  void ExpireAfter(std::chrono::seconds timeout) { deadline = Clock::now() + timeout; }
  void NoDeadline() { deadline = Clock::time_point::max(); }  // while a handler works
  // Between a whole request read and its answer written; otherwise idle (waiting for a
  // request, or reading one slowly), and so the first to go when the server is full.
  void SetBusy(bool now_busy) {
    busy.store(now_busy);
    if (!now_busy) idle_since.store(Clock::now().time_since_epoch().count());
  }

  tcp::socket socket;
  std::string address;  // the client's, counted against max_connections_per_address
  asio::steady_timer watchdog;
  Clock::time_point deadline = Clock::time_point::max();
  bool finished = false;  // the session is over; the watchdog stops
  // Read by the accept loop (another strand) when it looks for an idle connection to close.
  std::atomic<bool> busy{false};
  std::atomic<Clock::rep> idle_since{Clock::now().time_since_epoch().count()};
  std::atomic<bool> evicted{false};
};

// Runs on the connection's executor, like its session, so they never race. A timer armed
// for an earlier deadline just wakes and re-arms: deadlines set later are never earlier.
asio::awaitable<void> WatchDeadline(std::shared_ptr<Connection> connection,
                                    std::chrono::seconds timeout) {
  for (;;) {
    const auto deadline = connection->deadline;
    connection->watchdog.expires_at(deadline == Clock::time_point::max() ? Clock::now() + timeout
                                                                         : deadline);
    beast::error_code ec;
    co_await connection->watchdog.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (connection->finished) co_return;
    if (Clock::now() >= connection->deadline) {
      connection->socket.close(ec);  // the pending read or write fails and the session ends
      co_return;
    }
  }
}

// Sends head and body with one gather write (over TLS, Asio encrypts them record by record);
// the body is not copied.
template <typename Stream>
asio::awaitable<void> WriteResponse(Stream& stream, const wire::HttpResponse& response,
                                    unsigned version, bool keep_alive, beast::error_code& ec) {
  const std::string head = ResponseHead(response, version, keep_alive);
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head),
                                                     asio::buffer(response.body)};
  co_await asio::async_write(stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
}

using TlsStream = asio::ssl::stream<tcp::socket&>;

// A server context that speaks TLS 1.2 and 1.3 only, with the operator's certificate chain.
Result<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const ServerOptions& options) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  beast::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                       ec);
  if (ec) return Status(ErrorCode::kInvalidParameterValue, "cannot set up TLS: " + ec.message());
  SSL_CTX* native = context->native_handle();
  // Forward-secret AEAD suites for TLS 1.2 (TLS 1.3 has only such suites); no
  // renegotiation (one client could make the server handshake again and again); record
  // buffers given back while a connection is idle.
  constexpr char kTls12Ciphers[] =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "cannot set up TLS: this OpenSSL lacks TLS 1.2 or its ECDHE/AEAD suites");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // An encrypted key would make OpenSSL ask for its passphrase on the terminal: refuse it.
  SSL_CTX_set_default_passwd_cb(native, [](char*, int, int, void*) { return -1; });
  context->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "cannot load tls.cert_file " + options.tls_cert_file + ": " + ec.message());
  }
  context->use_private_key_file(options.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "cannot load tls.key_file " + options.tls_key_file + ": " + ec.message() +
                      " (an unencrypted PEM key matching tls.cert_file is needed)");
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Status(ErrorCode::kInvalidParameterValue, "tls.key_file " + options.tls_key_file +
                                                         " does not match tls.cert_file " +
                                                         options.tls_cert_file);
  }
  return context;
}

}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  asio::io_context& io;
  ServerOptions options;
  RequestHandler handler;
  tcp::acceptor acceptor;
  std::unique_ptr<asio::ssl::context> tls;  // set by Listen when TLS is configured
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> in_flight{0};
  ConnectionStats stats;

  // Every open connection, so that a full server can close the one idle the longest, and
  // how many each client address holds.
  struct Registered {
    std::weak_ptr<Connection> connection;
    std::string address;
  };
  std::mutex connections_mu;
  std::unordered_map<const Connection*, Registered> connections;
  std::unordered_map<std::string, int> per_address;

  State(asio::io_context& io_context, ServerOptions opts, RequestHandler h)
      : io(io_context), options(std::move(opts)), handler(std::move(h)), acceptor(io_context) {}

  void Register(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(connections_mu);
    // An entry left at this address by a connection whose session never ran is replaced,
    // its count with it.
    if (auto stale = connections.find(c.get()); stale != connections.end()) Forget(stale);
    connections.emplace(c.get(), Registered{c, c->address});
    ++per_address[c->address];
    stats.open.Set(int64_t(connections.size()));
  }
  void Unregister(const Connection* c) {
    std::lock_guard lock(connections_mu);
    auto it = connections.find(c);
    if (it != connections.end()) Forget(it);
    stats.open.Set(int64_t(connections.size()));
  }
  size_t open() {
    std::lock_guard lock(connections_mu);
    return connections.size();
  }
  int OpenFrom(const std::string& address) {
    std::lock_guard lock(connections_mu);
    auto it = per_address.find(address);
    return it == per_address.end() ? 0 : it->second;
  }
  // Drops a registry entry and its address's count (connections_mu held).
  decltype(connections)::iterator Forget(decltype(connections)::iterator it) {
    auto count = per_address.find(it->second.address);
    if (count != per_address.end() && --count->second <= 0) per_address.erase(count);
    return connections.erase(it);
  }
  // Closes the connection idle the longest (on its own executor); false if all are busy.
  bool EvictIdle() {
    std::shared_ptr<Connection> oldest;
    {
      std::lock_guard lock(connections_mu);
      for (auto it = connections.begin(); it != connections.end();) {
        auto c = it->second.connection.lock();
        if (!c) {  // its session ended without unregistering: forget it
          it = Forget(it);
          continue;
        }
        ++it;
        if (c->busy.load() || c->evicted.load()) continue;
        if (!oldest || c->idle_since.load() < oldest->idle_since.load()) oldest = std::move(c);
      }
      stats.open.Set(int64_t(connections.size()));
    }
    if (!oldest) return false;
    oldest->evicted.store(true);
    asio::post(oldest->socket.get_executor(), [oldest, state = shared_from_this()] {
      // On the connection's own executor, like its session: if a request came in meanwhile,
      // it is served, not cut off halfway.
      if (oldest->busy.load()) {
        oldest->evicted.store(false);
        return;
      }
      state->stats.evicted.Add();
      beast::error_code ec;
      oldest->socket.close(ec);  // its pending read fails and its session ends
    });
    return true;
  }
};

namespace {

// Ends a session however it ends (its coroutine frame may also be destroyed without
// returning): the connection leaves the registry, its watchdog stops, and a request it was
// serving is no longer counted in flight.
struct SessionGuard {
  std::shared_ptr<HttpServer::State> state;
  std::shared_ptr<Connection> connection;
  bool in_flight = false;

  ~SessionGuard() {
    if (in_flight) state->in_flight.fetch_sub(1);
    connection->finished = true;
    connection->watchdog.cancel();
    state->Unregister(connection.get());
  }
};

// Reads requests from `stream` and answers them until the connection ends.
template <typename Stream>
asio::awaitable<void> ServeRequests(HttpServer::State& state, Connection& connection,
                                    SessionGuard& guard, Stream& stream,
                                    const std::string& remote) {
  beast::error_code ec;
  const auto timeout = std::chrono::seconds(state.options.io_timeout_seconds);
  beast::flat_buffer buffer;
  // Beast reads at most the buffer's spare capacity per recv (at least 512 bytes): without a
  // reserve, a 10 KiB SendMessageBatch took about eight recv calls.
  buffer.reserve(kReadBufferBytes);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(state.options.body_limit);
    parser.header_limit(uint32_t(state.options.header_limit));
    // One deadline for the whole request, idle time included: a client trickling bytes
    // cannot hold the connection longer than a silent one.
    connection.ExpireAfter(timeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      int status = 0;
      if (ec == http::error::body_limit) status = 413;
      if (ec == http::error::header_limit) status = 431;
      if (status != 0) {
        wire::HttpResponse too_large;
        too_large.status = status;
        too_large.content_type = "text/plain";
        too_large.body = status == 413 ? "request body too large\n" : "request headers too large\n";
        connection.ExpireAfter(timeout);
        co_await WriteResponse(stream, too_large, 11, false, ec);
      }
      co_return;  // closed, timed out or malformed: drop the connection
    }
    // Closed to make room after the request arrived but before this ran (the close and this
    // share the connection's executor): not served, so that no request runs unanswered.
    if (!connection.socket.is_open()) co_return;
    auto request = parser.release();
    bool keep_alive = request.keep_alive() && !state.stopping.load();
    const unsigned version = request.version();
    connection.SetBusy(true);
    state.in_flight.fetch_add(1);
    guard.in_flight = true;
    connection.NoDeadline();  // a long poll may wait longer than the I/O timeout
    wire::HttpResponse answer = co_await AsyncHandle(
        state.handler, ToWire(std::move(request), remote, state.tls != nullptr),
        co_await asio::this_coro::executor, asio::use_awaitable);
    connection.ExpireAfter(timeout);
    co_await WriteResponse(stream, answer, version, keep_alive, ec);
    state.in_flight.fetch_sub(1);
    guard.in_flight = false;
    connection.SetBusy(false);
    if (ec || !keep_alive) co_return;
  }
}

asio::awaitable<void> RunSession(std::shared_ptr<HttpServer::State> state,
                                 std::shared_ptr<Connection> connection) {
  beast::error_code ec;
  std::string remote;
  {
    auto endpoint = connection->socket.remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string();
  }
  SessionGuard guard{state, connection};
  const auto timeout = std::chrono::seconds(state->options.io_timeout_seconds);
  connection->ExpireAfter(timeout);
  asio::co_spawn(connection->socket.get_executor(), WatchDeadline(connection, timeout),
                 asio::detached);
  if (state->tls) {
    // The handshake is under the same deadline as a request: a client that never finishes it
    // loses the connection when the watchdog closes the socket.
    TlsStream stream(connection->socket, *state->tls);
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      state->stats.tls_handshake_failures.Add();
    } else {
      co_await ServeRequests(*state, *connection, guard, stream, remote);
    }
  } else {
    co_await ServeRequests(*state, *connection, guard, connection->socket, remote);
  }
  // No TLS close_notify exchange: answers carry their length, so a cut cannot shorten one,
  // and waiting for the peer's reply would hold the connection for nothing.
  connection->socket.shutdown(tcp::socket::shutdown_send, ec);
}

// Lets an event through at most once a minute; Due() says how often it happened since the
// last one let through (0: not now).
class OncePerInterval {
 public:
  uint64_t Due() {
    ++count_;
    const auto now = Clock::now();
    if (logged_ && now - last_ < std::chrono::minutes(1)) return 0;
    logged_ = true;
    last_ = now;
    return std::exchange(count_, 0);
  }

 private:
  bool logged_ = false;
  Clock::time_point last_;
  uint64_t count_ = 0;
};

bool IsOutOfDescriptors(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec.value() == ENFILE ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<HttpServer::State> state) {
  using std::chrono::milliseconds;
  constexpr milliseconds kFirstBackoff{10};
  constexpr milliseconds kMaxBackoff{1000};
  milliseconds backoff = kFirstBackoff;
  // Logged at most once a minute each, with how often it happened since: a flood must not
  // become a flood of log lines.
  OncePerInterval accept_log;
  OncePerInterval full_log;
  OncePerInterval per_address_log;
  asio::steady_timer pause(state->io);
  const size_t max_connections = size_t(state->options.max_connections);
  const int per_address_cap = state->options.max_connections_per_address;
  for (;;) {
    beast::error_code ec;
    // Several I/O threads: each connection's handlers (its stream's timer included) must
    // not run concurrently, so it gets a strand. One thread serialises them anyway.
    asio::any_io_executor executor = state->io.get_executor();
    if (state->options.io_threads > 1) executor = asio::make_strand(state->io);
    tcp::socket socket = co_await state->acceptor.async_accept(
        executor, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (state->stopping.load() || ec == asio::error::operation_aborted) co_return;
      if (ec == asio::error::connection_aborted) continue;  // the client gave up: next one
      state->stats.accept_errors.Add();
      if (uint64_t times = accept_log.Due()) {
        spdlog::error("event=accept_failed error=\"{}\" times={} open={} action=\"backing off{}\"",
                      ec.message(), times, state->open(),
                      IsOutOfDescriptors(ec)
                          ? ", closing idle connections; raise the open-file limit "
                            "or lower server.max_connections"
                          : "");
      }
      // The connection stays in the listen queue, so accepting again at once would spin.
      // Out of descriptors, closing an idle connection frees one: a short pause lets the
      // close happen before the next try, so that one close makes room for one accept.
      const bool evicted = IsOutOfDescriptors(ec) && state->EvictIdle();
      pause.expires_after(evicted ? kFirstBackoff : backoff);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!evicted) backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = kFirstBackoff;
    state->stats.accepted.Add();
    std::string address;
    if (auto remote = socket.remote_endpoint(ec); !ec) address = remote.address().to_string();
    if (per_address_cap > 0 && state->OpenFrom(address) >= per_address_cap) {
      // One client holding its share: closed at once, whatever the rest of the server does.
      state->stats.refused_per_address.Add();
      if (uint64_t times = per_address_log.Due()) {
        spdlog::warn(
            "event=connections_per_address_full times={} address={} max={} action=\"closing "
            "new connections from this address; raise server.max_connections_per_address if "
            "it is a proxy\"",
            times, address, per_address_cap);
      }
      socket.close(ec);
      continue;
    }
    if (state->open() >= max_connections && !state->EvictIdle()) {
      // Every connection is working: this one is closed at once rather than queued.
      state->stats.refused.Add();
      if (uint64_t times = full_log.Due()) {
        spdlog::warn(
            "event=connections_full times={} open={} max={} action=\"closing new connections "
            "while every one is busy\"",
            times, state->open(), max_connections);
      }
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    // Registered here, not in the session, so that the next accept already counts it.
    auto connection = std::make_shared<Connection>(std::move(socket));
    connection->address = std::move(address);
    state->Register(connection);
    asio::co_spawn(connection->socket.get_executor(), RunSession(state, connection),
                   asio::detached);
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, RequestHandler handler)
    : state_(std::make_shared<State>(io, std::move(options), std::move(handler))) {
  if (state_->options.max_connections <= 0) {
    rlimit limit{};
    uint64_t files = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      files = limit.rlim_cur == RLIM_INFINITY ? uint64_t(1) << 20 : uint64_t(limit.rlim_cur);
    }
    state_->options.max_connections = DefaultMaxConnections(files);
  }
}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::Listen() {
  if (!state_->options.tls_cert_file.empty() || !state_->options.tls_key_file.empty()) {
    auto tls = MakeTlsContext(state_->options);
    if (!tls.ok()) return tls.status();
    state_->tls = std::move(*tls);
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(state_->options.address, ec);
  if (ec) return Status(ErrorCode::kInvalidParameterValue, "bad listen address: " + ec.message());
  tcp::endpoint endpoint(address, state_->options.port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kServiceUnavailable, "cannot listen on " + state_->options.address +
                                                      ":" + std::to_string(state_->options.port) +
                                                      ": " + ec.message());
  }
  return acceptor.local_endpoint().port();
}

void HttpServer::Start() {
  asio::co_spawn(state_->acceptor.get_executor(), AcceptLoop(state_), asio::detached);
}

void HttpServer::StopAccepting() {
  state_->stopping.store(true);
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    beast::error_code ec;
    state->acceptor.close(ec);
  });
}

int64_t HttpServer::in_flight() const { return state_->in_flight.load(); }

const ConnectionStats& HttpServer::connection_stats() const { return state_->stats; }

int HttpServer::max_connections() const { return state_->options.max_connections; }

int DefaultMaxConnections(uint64_t open_file_limit) {
  // Storage keeps a few files open, libcurl at most kMaxOutboundConnections sockets, and
  // Asio, the log and the libraries a few more: 160 leaves room for all of them. And no more
  // than 4,096 by default, whatever the limit: each connection holds a 64 KiB read buffer,
  // so a flood of idle connections is bounded at 256 MiB (set server.max_connections for more).
  constexpr uint64_t kReserve = 160;
  constexpr uint64_t kLeast = 16;
  constexpr uint64_t kMost = 4096;
  if (open_file_limit <= kReserve + kLeast) return int(kLeast);
  return int(std::min(open_file_limit - kReserve, kMost));
}

}  // namespace postbox::net
