// HttpServer: HTTP/1.1 with keep-alive on Boost.Beast, one C++20 coroutine per connection,
// over plain TCP or TLS (OpenSSL through Asio; one server per listener).
//
// Limits keep a slow or hostile client from holding the server: header and body size caps
// (answered 431/413), a deadline on every read and write (a whole request, idle time
// included, must arrive within `io_timeout`, and an answer must be taken within it), and a cap
// on open connections below the open-file limit, so that a flood of connections cannot take
// the descriptors storage needs or lock out new clients; accept() failures (EMFILE) are backed
// off, never spun on. Requests
// go to a callback-style handler so that handlers can wait on storage or long polls without
// blocking an I/O thread.
// Thread-safety: the io_context may be run by several threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/metrics.h"
#include "base/status.h"
#include "wire/common/http_message.h"

namespace boost::asio {
class io_context;
}

namespace postbox::net {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 9324;
  size_t body_limit = 8 << 20;     // bytes; SQS bodies are at most ~1.4 MiB after base64
  size_t header_limit = 16 << 10;  // bytes
  int io_timeout_seconds = 60;     // per request read / answer write, keep-alive idle included
  // Threads running the io_context. With one, connections need no strand (they cannot run
  // concurrently), which saves a lock and an allocation per operation.
  int io_threads = 1;
  // Connections open at once. A new one beyond it takes the place of the connection idle the
  // longest (no request being read to the end or answered), or is closed at once if every
  // connection is busy. 0: DefaultMaxConnections().
  int max_connections = 0;
  // Connections one client address may hold open at once; a new one beyond it is closed at
  // once, so that one client cannot take every connection. 0: no such limit (behind a proxy
  // every client has the proxy's address).
  int max_connections_per_address = 0;
  // TLS: a PEM certificate chain and its PEM private key. Both set: every connection speaks
  // TLS 1.2 or 1.3 (older versions are refused in the handshake); both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// The open-file limit less a reserve for storage files, outbound deliveries and the rest
// (CurlSender::kMaxOutboundConnections), and at least 16.
int DefaultMaxConnections(uint64_t open_file_limit);

// What the server did with connections, for /metrics.
struct ConnectionStats {
  Counter accepted;
  Counter refused;                 // closed at once: at the cap with every connection busy
  Counter refused_per_address;     // closed at once: its address has its share open
  Counter evicted;                 // idle connections closed to make room
  Counter accept_errors;           // accept() failed (EMFILE, ENFILE...): backed off
  Counter tls_handshake_failures;  // TLS listener: handshakes that failed or timed out
  Gauge open;
};

using RequestHandler =
    std::function<void(wire::HttpRequest, std::function<void(wire::HttpResponse)>)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, RequestHandler handler);
  ~HttpServer();

  // Loads the TLS certificate and key (if configured), binds and listens; returns the bound
  // port (useful with port 0).
  Result<uint16_t> Listen();
  // Starts accepting on the io_context.
  void Start();
  // Stops accepting new connections; connections close after their current request.
  void StopAccepting();
  int64_t in_flight() const;
  const ConnectionStats& connection_stats() const;
  int max_connections() const;

 public:
  struct State;  // shared with the connection coroutines, which may outlive a request

 private:
  std::shared_ptr<State> state_;
};

}  // namespace postbox::net
