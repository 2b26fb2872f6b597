// postbox-loadgen-redis: the SQS benchmark's workload against Redis streams, the peer issue 3
// names ("Redis streams with appendfsync always"), measured the same way in the same run.
//
// The shapes mirror postbox-loadgen's, one round trip for one round trip:
//   SendMessageBatch(10): 10 pipelined `XADD <stream> * b <body>`;
//   ReceiveMessage(10, long poll):
//     `XREADGROUP GROUP g c<n> COUNT 10 BLOCK 1000 STREAMS <stream> >`;
//   DeleteMessageBatch: `XACK <stream> g <ids…>` and `XDEL <stream> <ids…>`, pipelined.
// With `appendfsync always`, Redis writes and fsyncs its append-only file before it answers
// any of a loop iteration's commands, so every acknowledged send is on disk, as in postbox.
// Producers pause while --max-backlog messages are sent but not yet acknowledged; every loop
// stops after --seconds and a watchdog 30 s later. Prints the same JSON line as
// postbox-loadgen (see load_run.h).
// clang-format off
#include <utility>  // Asio's awaitable uses std::exchange without including it
// clang-format on

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load_run.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace bench = postbox::bench;
using bench::Clock;
using bench::Totals;

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "6379";
  std::string stream = "bench";
  bench::Shape shape{.protocol = "redis"};
  int max_backlog = 5000;
};

// Appends one RESP command, an array of bulk strings.
void AppendCommand(std::string* out, const std::vector<std::string_view>& args) {
  *out += "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view arg : args) {
    *out += "$" + std::to_string(arg.size()) + "\r\n";
    out->append(arg);
    *out += "\r\n";
  }
}

// A parsed RESP reply; text views point into the connection's buffer until the next exchange.
struct Reply {
  char type = 0;  // '+', '-', ':', '$', '*', or '_' for a null bulk string or array
  std::string_view text;
  int64_t integer = 0;
  std::vector<Reply> items;
};

// Parses one reply starting at `pos`; nullopt while it is incomplete.
std::optional<size_t> ParseReply(std::string_view in, size_t pos, Reply* out) {
  size_t line_end = in.find("\r\n", pos);
  if (line_end == std::string_view::npos || line_end == pos) return std::nullopt;
  out->type = in[pos];
  std::string_view line = in.substr(pos + 1, line_end - pos - 1);
  size_t next = line_end + 2;
  switch (out->type) {
    case '+':
    case '-':
      out->text = line;
      return next;
    case ':':
      out->integer = std::atoll(std::string(line).c_str());
      return next;
    case '$': {
      int64_t length = std::atoll(std::string(line).c_str());
      if (length < 0) {
        out->type = '_';
        return next;
      }
      if (in.size() < next + size_t(length) + 2) return std::nullopt;
      out->text = in.substr(next, size_t(length));
      return next + size_t(length) + 2;
    }
    case '*': {
      int64_t count = std::atoll(std::string(line).c_str());
      if (count < 0) {
        out->type = '_';
        return next;
      }
      out->items.resize(size_t(count));
      for (Reply& item : out->items) {
        auto after = ParseReply(in, next, &item);
        if (!after) return std::nullopt;
        next = *after;
      }
      return next;
    }
    default:
      out->type = '-';  // a protocol error: reported as a failed reply
      out->text = line;
      return in.size();
  }
}

class RespConnection {
 public:
  RespConnection(asio::io_context& io, tcp::endpoint endpoint) : socket_(io), endpoint_(endpoint) {}

  // Writes `commands` and reads `count` replies into replies(); false if the connection failed.
  asio::awaitable<bool> Exchange(const std::string& commands, size_t count) {
    boost::system::error_code ec;
    if (!socket_.is_open()) {
      co_await socket_.async_connect(endpoint_, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return false;
      socket_.set_option(tcp::no_delay(true), ec);
    }
    co_await asio::async_write(socket_, asio::buffer(commands),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    in_.erase(0, consumed_);
    // Parsed from the start after every read: replies' views into in_ must see its final
    // buffer, and answers here are a few KiB.
    for (;;) {
      replies_.assign(count, Reply());
      std::optional<size_t> pos = 0;
      for (Reply& reply : replies_) {
        if (!(pos = ParseReply(in_, *pos, &reply))) break;
      }
      if (pos) {
        consumed_ = *pos;
        co_return true;
      }
      size_t n = co_await socket_.async_read_some(asio::buffer(chunk_),
                                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec || n == 0) co_return false;
      in_.append(chunk_.data(), n);
    }
  }

  const std::vector<Reply>& replies() const { return replies_; }

 private:
  tcp::socket socket_;
  tcp::endpoint endpoint_;
  std::string in_;
  size_t consumed_ = 0;
  std::vector<Reply> replies_;
  std::array<char, 65536> chunk_;
};

asio::awaitable<void> Produce(RespConnection& c, const Options& o, int producer,
                              Clock::time_point deadline, Totals& totals) {
  const std::string padding(size_t(std::max(0, o.shape.size - 21)), 'x');
  asio::steady_timer pause(co_await asio::this_coro::executor);
  bench::Pacer pacer(o.shape, producer);
  std::string commands;
  while (Clock::now() < deadline) {
    if (o.shape.consumers > 0 && totals.sent - totals.received > o.max_backlog) {
      co_await bench::WaitAMillisecond(pause);
      continue;
    }
    co_await pacer.WaitForTurn(pause);
    commands.clear();
    char head[32];
    std::snprintf(head, sizeof(head), "%020lld|", static_cast<long long>(bench::NowMicros()));
    const std::string body = head + padding;
    for (int i = 0; i < o.shape.batch; ++i) {
      AppendCommand(&commands, {"XADD", o.stream, "*", "b", body});
    }
    if (!co_await c.Exchange(commands, size_t(o.shape.batch))) {
      ++totals.errors;
      co_return;
    }
    for (const Reply& reply : c.replies()) {
      if (reply.type == '$') {
        ++totals.sent;
      } else {
        ++totals.errors;
      }
    }
  }
}

asio::awaitable<void> Consume(RespConnection& c, const Options& o, int consumer,
                              Clock::time_point deadline, Totals& totals) {
  std::string read;
  const std::string name = "c" + std::to_string(consumer);
  AppendCommand(&read, {"XREADGROUP", "GROUP", "g", name, "COUNT", "10", "BLOCK", "1000", "STREAMS",
                        o.stream, ">"});
  std::string acknowledge;
  std::vector<std::string_view> ids;
  while (Clock::now() < deadline) {
    if (!co_await c.Exchange(read, 1)) {
      ++totals.errors;
      co_return;
    }
    const int64_t now = bench::NowMicros();
    const Reply& reply = c.replies()[0];
    if (reply.type == '_') continue;  // the long poll ended empty
    // [[stream, [[id, [field, value]], …]]]
    if (reply.type != '*' || reply.items.empty() || reply.items[0].items.size() != 2) {
      ++totals.errors;
      continue;
    }
    ids.clear();
    for (const Reply& entry : reply.items[0].items[1].items) {
      if (entry.items.size() != 2 || entry.items[1].items.size() != 2 ||
          entry.items[1].items[1].text.size() < 20) {
        ++totals.errors;
        continue;
      }
      ids.push_back(entry.items[0].text);
      std::string sent_at(entry.items[1].items[1].text.substr(0, 20));
      totals.latencies_us.push_back(now - std::atoll(sent_at.c_str()));
    }
    if (ids.empty()) continue;
    ++totals.receives;
    acknowledge.clear();
    std::vector<std::string_view> ack = {"XACK", o.stream, "g"};
    std::vector<std::string_view> del = {"XDEL", o.stream};
    ack.insert(ack.end(), ids.begin(), ids.end());
    del.insert(del.end(), ids.begin(), ids.end());
    AppendCommand(&acknowledge, ack);
    AppendCommand(&acknowledge, del);
    if (!co_await c.Exchange(acknowledge, 2)) {
      ++totals.errors;
      co_return;
    }
    const Reply& acked = c.replies()[0];
    if (acked.type != ':') {
      ++totals.errors;
      continue;
    }
    totals.received += acked.integer;
  }
}

asio::awaitable<void> Run(asio::io_context& io, const Options& o, tcp::endpoint endpoint,
                          Totals& totals, bool& setup_failed) {
  // A fresh stream and consumer group for every run.
  RespConnection setup(io, endpoint);
  std::string commands;
  AppendCommand(&commands, {"DEL", o.stream});
  AppendCommand(&commands, {"XGROUP", "CREATE", o.stream, "g", "$", "MKSTREAM"});
  if (!co_await setup.Exchange(commands, 2) || setup.replies()[1].type != '+') {
    std::fprintf(stderr, "creating the stream failed\n");
    setup_failed = true;
    io.stop();
    co_return;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(o.shape.seconds);
  std::vector<std::unique_ptr<RespConnection>> connections;
  int running = o.shape.producers + o.shape.consumers;
  auto finished = [&running, &io](std::exception_ptr) {
    if (--running == 0) io.stop();
  };
  for (int p = 0; p < o.shape.producers; ++p) {
    connections.push_back(std::make_unique<RespConnection>(io, endpoint));
    asio::co_spawn(io, Produce(*connections.back(), o, p, deadline, totals), finished);
  }
  for (int c = 0; c < o.shape.consumers; ++c) {
    connections.push_back(std::make_unique<RespConnection>(io, endpoint));
    asio::co_spawn(io, Consume(*connections.back(), o, c, deadline, totals), finished);
  }
  co_await bench::WaitUntilStopped(io);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      o.port = value;
    } else if (flag == "--stream") {
      o.stream = value;
    } else if (flag == "--producers") {
      o.shape.producers = std::atoi(value.c_str());
    } else if (flag == "--consumers") {
      o.shape.consumers = std::atoi(value.c_str());
    } else if (flag == "--seconds") {
      o.shape.seconds = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--size") {
      o.shape.size = std::atoi(value.c_str());
    } else if (flag == "--batch") {
      o.shape.batch = std::clamp(std::atoi(value.c_str()), 1, 10);
    } else if (flag == "--rate") {
      o.shape.rate = std::max(0, std::atoi(value.c_str()));
    } else if (flag == "--max-backlog") {
      o.max_backlog = std::max(10, std::atoi(value.c_str()));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  return bench::RunLoad(
      o.host, o.port, o.shape,
      [&o](asio::io_context& io, tcp::endpoint endpoint, Totals& totals, bool& setup_failed) {
        return Run(io, o, endpoint, totals, setup_failed);
      });
}
