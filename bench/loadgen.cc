// postbox-loadgen: drives any SQS endpoint over its real HTTP API (JSON 1.0 protocol, as boto3
// sends it) and reports end-to-end throughput and send-to-receive latency.
//
// Producers loop SendMessageBatch (10 messages of --size bytes, each carrying its send time);
// consumers loop ReceiveMessage (10, long poll) and DeleteMessageBatch. Every loop stops when
// --seconds have passed, so a run is bounded whatever the server does. Latency is measured from
// the producer's clock reading before the send to the consumer's reading after the receive
// (one process, one steady clock).
//
// Output: one JSON line with sent/s, received/s (= deleted, end to end), p50/p99 latency (ms).
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>  // before Asio
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "9324";
  std::string queue = "bench";
  int producers = 4;
  int consumers = 4;
  int seconds = 10;
  int size = 1024;
};

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// One connection speaking the SQS JSON protocol. Keeps the connection alive when the server
// does, reconnects when it does not or when a request fails; every request has a timeout.
class Client {
 public:
  explicit Client(const Options& o) : options_(o), stream_(io_) { Connect(); }

  // Returns the parsed response body (discarded on failure, with *status = 0).
  json Call(const std::string& action, const std::string& body, int* status = nullptr) {
    http::request<http::string_body> req{http::verb::post, "/", 11};
    req.set(http::field::host, options_.host + ":" + options_.port);
    req.set(http::field::content_type, "application/x-amz-json-1.0");
    req.set("X-Amz-Target", "AmazonSQS." + action);
    req.set(http::field::authorization,
            "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/sqs/aws4_request, "
            "SignedHeaders=host, Signature=0");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    http::response<http::string_body> res;
    stream_.expires_after(std::chrono::seconds(30));
    http::write(stream_, req, ec);
    if (!ec) http::read(stream_, buffer_, res, ec);
    if (ec || !res.keep_alive()) Reconnect();
    if (ec) {
      if (status) *status = 0;
      return json::value_t::discarded;
    }
    if (status) *status = res.result_int();
    return json::parse(res.body(), nullptr, false);
  }

 private:
  void Connect() {
    tcp::resolver resolver(io_);
    stream_.expires_after(std::chrono::seconds(10));
    stream_.connect(resolver.resolve(options_.host, options_.port));
    stream_.socket().set_option(tcp::no_delay(true));
  }
  void Reconnect() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    Connect();
  }

  const Options& options_;
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

std::string JsonString(const std::string& s) { return json(s).dump(); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--host")
      o.host = value;
    else if (flag == "--port")
      o.port = value;
    else if (flag == "--queue")
      o.queue = value;
    else if (flag == "--producers")
      o.producers = std::atoi(value.c_str());
    else if (flag == "--consumers")
      o.consumers = std::atoi(value.c_str());
    else if (flag == "--seconds")
      o.seconds = std::atoi(value.c_str());
    else if (flag == "--size")
      o.size = std::atoi(value.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::string queue_url;
  {
    Client setup(o);
    json created = setup.Call("CreateQueue", json{{"QueueName", o.queue}}.dump());
    if (!created.contains("QueueUrl")) {
      std::fprintf(stderr, "CreateQueue failed: %s\n", created.dump().c_str());
      return 1;
    }
    queue_url = created["QueueUrl"].get<std::string>();
  }
  const std::string url_json = JsonString(queue_url);
  const auto deadline = Clock::now() + std::chrono::seconds(o.seconds);
  std::atomic<int64_t> sent{0}, received{0}, errors{0};
  std::mutex latency_mu;
  std::vector<int64_t> latencies;  // microseconds

  std::vector<std::thread> threads;
  for (int p = 0; p < o.producers; ++p) {
    threads.emplace_back([&, p] {
      Client client(o);
      const std::string padding(size_t(std::max(0, o.size - 24)), 'x');
      while (Clock::now() < deadline) {
        std::string body = "{\"QueueUrl\":" + url_json + ",\"Entries\":[";
        int64_t now = NowMicros();
        for (int i = 0; i < 10; ++i) {
          char head[32];
          std::snprintf(head, sizeof(head), "%020lld|", static_cast<long long>(now));
          body += std::string(i ? "," : "") + "{\"Id\":\"m" + std::to_string(i) +
                  "\",\"MessageBody\":\"" + head + padding + "\"}";
        }
        body += "]}";
        int status = 0;
        json r = client.Call("SendMessageBatch", body, &status);
        if (status != 200 || !r.contains("Successful")) {
          ++errors;
          continue;
        }
        sent += int64_t(r["Successful"].size());
      }
      (void)p;
    });
  }
  for (int c = 0; c < o.consumers; ++c) {
    threads.emplace_back([&] {
      Client client(o);
      std::vector<int64_t> local;
      const std::string receive =
          "{\"QueueUrl\":" + url_json + ",\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":1}";
      while (Clock::now() < deadline) {
        int status = 0;
        json r = client.Call("ReceiveMessage", receive, &status);
        int64_t now = NowMicros();
        if (status != 200) {
          ++errors;
          continue;
        }
        if (!r.contains("Messages") || r["Messages"].empty()) continue;
        std::string body = "{\"QueueUrl\":" + url_json + ",\"Entries\":[";
        int i = 0;
        for (const auto& m : r["Messages"]) {
          const std::string& text = m["Body"].get_ref<const std::string&>();
          local.push_back(now - std::atoll(text.substr(0, 20).c_str()));
          body += std::string(i ? "," : "") + "{\"Id\":\"d" + std::to_string(i) +
                  "\",\"ReceiptHandle\":" + JsonString(m["ReceiptHandle"].get<std::string>()) + "}";
          ++i;
        }
        body += "]}";
        json d = client.Call("DeleteMessageBatch", body, &status);
        if (status != 200) {
          ++errors;
          continue;
        }
        received += int64_t(d["Successful"].size());
      }
      std::lock_guard lock(latency_mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
    });
  }
  for (auto& t : threads) t.join();

  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double q) {
    if (latencies.empty()) return 0.0;
    return double(latencies[size_t(q * double(latencies.size() - 1))]) / 1000.0;
  };
  std::printf(
      "{\"seconds\":%d,\"size\":%d,\"producers\":%d,\"consumers\":%d,\"sent_per_s\":%.0f,"
      "\"received_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%lld}\n",
      o.seconds, o.size, o.producers, o.consumers, double(sent) / o.seconds,
      double(received) / o.seconds, percentile(0.50), percentile(0.99),
      static_cast<long long>(errors.load()));
  return 0;
}
