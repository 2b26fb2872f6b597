// postbox-loadgen: drives any SQS endpoint over its real HTTP API (JSON 1.0 protocol, as boto3
// sends it) and reports end-to-end throughput and send-to-receive latency.
//
// Producers loop SendMessageBatch (10 messages of --size bytes, each carrying its send time);
// consumers loop ReceiveMessage (10, long poll) and DeleteMessageBatch. Every loop stops when
// --seconds have passed, and a watchdog stops the run 30 s later whatever the server does.
// Latency is measured from the producer's clock reading before the send to the consumer's
// reading after the receive (one process, one steady clock).
//
// All connections run as coroutines on one thread with hand-written HTTP/1.1 framing and
// simdjson for the responses, so that the load generator needs far less CPU than the server
// it measures (a thread and a JSON tree per connection cost more than the server's work).
//
// With --fifo the queue is a FIFO queue in high-throughput mode (deduplication per message
// group, throughput per group) and messages are spread round-robin over --groups groups, each
// with its own deduplication id.
//
// With --rate R the producers send R messages per second between them, evenly spaced, and
// --batch B puts B messages in each SendMessageBatch (default 10): a light-load latency run.
//
// With --protocol query the same workload speaks SQS's query protocol (form bodies, XML
// answers), as Celery/kombu and older SDKs do; the default is json.
//
// With --fanout N the producers Publish to an SNS topic (query protocol) that has N SQS queue
// subscriptions with raw delivery, and the consumers drain all N queues: sent/s counts
// publishes, received/s deliveries (N per publish), latency is publish-to-receive.
//
// Output: one JSON line with sent/s, received/s (= deleted, end to end), p50/p99 latency (ms),
// and the mean number of messages per non-empty receive.
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>  // before Asio
#include <vector>

#include "base/encoding.h"
#include "load_run.h"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using postbox::PercentEncode;
using postbox::bench::Clock;
using postbox::bench::NowMicros;
using postbox::bench::Totals;

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "9324";
  std::string queue = "bench";
  int producers = 4;
  int consumers = 4;
  int seconds = 10;
  int size = 1024;
  bool fifo = false;
  int groups = 100;
  // Producers wait while this many sent messages are not yet received: the run measures the
  // rate the server sustains, and latency is not just the length of a growing backlog.
  int max_backlog = 5000;
  int fanout = 0;      // > 0: publish to a topic with this many queue subscriptions
  int batch = 10;      // messages per SendMessageBatch
  int rate = 0;        // > 0: messages per second over all producers (a latency run)
  bool query = false;  // SQS query protocol instead of JSON

  postbox::bench::Shape shape() const {
    return {.fifo = fifo,
            // Fan-out publishes through SNS's query protocol, drains with SQS JSON.
            .protocol = fanout > 0 ? "sns-query"
                        : query    ? "query"
                                   : "json",
            .fanout = fanout,
            .seconds = seconds,
            .size = size,
            .producers = producers,
            .consumers = consumers,
            .batch = batch,
            .rate = rate};
  }
};

// A JSON string literal for text that needs no escaping beyond quotes and backslashes.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

size_t CountOf(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// The text between <tag> and </tag> in an XML answer, or "" if absent.
std::string XmlValue(std::string_view xml, const std::string& tag) {
  size_t open = xml.find("<" + tag + ">");
  if (open == std::string_view::npos) return "";
  open += tag.size() + 2;
  size_t close = xml.find("</" + tag + ">", open);
  return close == std::string_view::npos ? "" : std::string(xml.substr(open, close - open));
}

// One keep-alive connection speaking the SQS JSON protocol. Reconnects when the server closes
// or a request fails.
class Connection {
 public:
  Connection(asio::io_context& io, const Options& o, tcp::endpoint endpoint)
      : socket_(io), endpoint_(endpoint) {
    prefix_ = "POST / HTTP/1.1\r\nHost: " + o.host + ":" + o.port +
              "\r\nContent-Type: application/x-amz-json-1.0\r\n"
              "Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/sqs/"
              "aws4_request, SignedHeaders=host, Signature=0\r\nX-Amz-Target: AmazonSQS.";
    form_prefix_ = FormPrefix(o, "sns");
    sqs_form_prefix_ = FormPrefix(o, "sqs");
  }

  // An SNS query-protocol request (form body, XML answer).
  asio::awaitable<int> Form(const std::string& body) {
    co_return co_await Send(form_prefix_, body);
  }
  // An SQS query-protocol request.
  asio::awaitable<int> SqsForm(const std::string& body) {
    co_return co_await Send(sqs_form_prefix_, body);
  }

  // The HTTP status of the answer (0 when the connection failed); body() holds its body.
  asio::awaitable<int> Call(std::string_view action, const std::string& body) {
    co_return co_await Send(prefix_ + std::string(action), body);
  }

  std::string_view body() const { return body_; }

 private:
  static std::string FormPrefix(const Options& o, const std::string& service) {
    return "POST / HTTP/1.1\r\nHost: " + o.host + ":" + o.port +
           "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           "Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/" +
           service + "/aws4_request, SignedHeaders=host, Signature=0";
  }

  asio::awaitable<int> Send(const std::string& head_start, const std::string& body) {
    boost::system::error_code ec;
    if (!socket_.is_open()) {
      co_await socket_.async_connect(endpoint_, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return Fail();
      socket_.set_option(tcp::no_delay(true), ec);
      in_.clear();
      consumed_ = 0;
    }
    std::string head = head_start;
    head += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    std::array<asio::const_buffer, 2> out = {asio::buffer(head), asio::buffer(body)};
    co_await asio::async_write(socket_, out, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Fail();

    in_.erase(0, consumed_);
    consumed_ = 0;
    size_t header_end;
    while ((header_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!co_await ReadMore()) co_return Fail();
    }
    std::string_view headers(in_.data(), header_end);
    if (headers.size() < 12 || headers.substr(0, 5) != "HTTP/") co_return Fail();
    int status = std::atoi(std::string(headers.substr(9, 3)).c_str());
    std::string lower(headers);
    for (char& c : lower) c = char(std::tolower(uint8_t(c)));
    size_t cl = lower.find("\r\ncontent-length:");
    if (cl == std::string::npos) co_return Fail();
    size_t length = size_t(std::atoll(lower.c_str() + cl + 17));
    bool close = headers.substr(0, 8) == "HTTP/1.0" ||
                 lower.find("\r\nconnection: close") != std::string::npos;
    const size_t body_start = header_end + 4;
    while (in_.size() < body_start + length) {
      if (!co_await ReadMore()) co_return Fail();
    }
    body_ = std::string_view(in_.data() + body_start, length);
    consumed_ = body_start + length;
    if (close) Close();
    co_return status;
  }

  asio::awaitable<bool> ReadMore() {
    boost::system::error_code ec;
    size_t n = co_await socket_.async_read_some(asio::buffer(chunk_),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) co_return false;
    in_.append(chunk_.data(), n);
    co_return true;
  }
  int Fail() {
    Close();
    return 0;
  }
  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  tcp::endpoint endpoint_;
  std::string prefix_;
  std::string form_prefix_;
  std::string sqs_form_prefix_;
  std::string in_;
  size_t consumed_ = 0;
  std::string_view body_;
  std::array<char, 65536> chunk_;
};

// A SendMessageBatch in the query protocol: the same messages as the JSON producer's.
std::string QuerySendBatch(const Options& o, const std::string& url_form, int producer,
                           uint64_t& counter) {
  const std::string padding(size_t(std::max(0, o.size - 24)), 'x');
  std::string body = "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=" + url_form;
  const int64_t now = NowMicros();
  for (int i = 0; i < o.batch; ++i) {
    const std::string entry = "&SendMessageBatchRequestEntry." + std::to_string(i + 1) + ".";
    char head[32];
    std::snprintf(head, sizeof(head), "%020lld%%7C", static_cast<long long>(now));
    body += entry + "Id=m" + std::to_string(i) + entry + "MessageBody=" + head + padding;
    if (o.fifo) {
      const uint64_t n = counter++;
      body += entry + "MessageGroupId=g" +
              std::to_string((n + uint64_t(producer)) % uint64_t(o.groups)) + entry +
              "MessageDeduplicationId=p" + std::to_string(producer) + "-" + std::to_string(n);
    }
  }
  return body;
}

asio::awaitable<void> Produce(Connection& c, const Options& o, std::string url, int producer,
                              Clock::time_point deadline, Totals& totals) {
  const std::string url_json = Quoted(url);
  const std::string url_form = PercentEncode(url);
  const std::string padding(size_t(std::max(0, o.size - 24)), 'x');
  uint64_t counter = 0;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  postbox::bench::Pacer pacer(o.shape(), producer);
  while (Clock::now() < deadline) {
    if (o.consumers > 0 && totals.sent - totals.received > o.max_backlog) {
      co_await postbox::bench::WaitAMillisecond(pause);
      continue;
    }
    co_await pacer.WaitForTurn(pause);
    if (o.query) {
      int status = co_await c.SqsForm(QuerySendBatch(o, url_form, producer, counter));
      if (status != 200) {
        ++totals.errors;
        continue;
      }
      totals.sent += int64_t(CountOf(c.body(), "<MessageId>"));
      continue;
    }
    std::string body = "{\"QueueUrl\":" + url_json + ",\"Entries\":[";
    int64_t now = NowMicros();
    for (int i = 0; i < o.batch; ++i) {
      char head[32];
      std::snprintf(head, sizeof(head), "%020lld|", static_cast<long long>(now));
      body += std::string(i ? "," : "") + "{\"Id\":\"m" + std::to_string(i) +
              "\",\"MessageBody\":\"" + head + padding + "\"";
      if (o.fifo) {
        // Producers interleave over all groups; ids are unique per producer and message.
        uint64_t n = counter++;
        body += ",\"MessageGroupId\":\"g" +
                std::to_string((n + uint64_t(producer)) % uint64_t(o.groups)) +
                "\",\"MessageDeduplicationId\":\"p" + std::to_string(producer) + "-" +
                std::to_string(n) + "\"";
      }
      body += "}";
    }
    body += "]}";
    int status = co_await c.Call("SendMessageBatch", body);
    if (status != 200) {
      ++totals.errors;
      continue;
    }
    totals.sent += int64_t(CountOf(c.body(), "\"MessageId\""));
  }
}

// Records the send-to-receive latency of each received message (its body starts with the
// send time) and deletes them in one DeleteMessageBatch; counts the deleted ones as received.
asio::awaitable<void> DeleteReceived(Connection& c, const std::string& url_json,
                                     simdjson::dom::array messages, int64_t now,
                                     simdjson::dom::parser& parser, Totals& totals) {
  std::string body = "{\"QueueUrl\":" + url_json + ",\"Entries\":[";
  int i = 0;
  for (simdjson::dom::element m : messages) {
    std::string_view text, handle;
    if (m["Body"].get(text) || m["ReceiptHandle"].get(handle) || text.size() < 20) {
      ++totals.errors;
      continue;
    }
    totals.latencies_us.push_back(now - std::atoll(std::string(text.substr(0, 20)).c_str()));
    body += std::string(i ? "," : "") + "{\"Id\":\"d" + std::to_string(i) +
            "\",\"ReceiptHandle\":" + Quoted(handle) + "}";
    ++i;
  }
  body += "]}";
  // `messages` points into the parser's document: everything needed was copied above.
  int status = co_await c.Call("DeleteMessageBatch", body);
  simdjson::dom::element doc;
  simdjson::dom::array successful;
  if (status != 200 || parser.parse(c.body().data(), c.body().size()).get(doc) ||
      doc["Successful"].get(successful)) {
    ++totals.errors;
    co_return;
  }
  totals.received += int64_t(successful.size());
}

asio::awaitable<void> Consume(Connection& c, std::string url_json, Clock::time_point deadline,
                              Totals& totals) {
  simdjson::dom::parser parser;
  const std::string receive =
      "{\"QueueUrl\":" + url_json + ",\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":1}";
  while (Clock::now() < deadline) {
    int status = co_await c.Call("ReceiveMessage", receive);
    int64_t now = NowMicros();
    simdjson::dom::element doc;
    if (status != 200 || parser.parse(c.body().data(), c.body().size()).get(doc)) {
      ++totals.errors;
      continue;
    }
    simdjson::dom::array messages;
    if (doc["Messages"].get(messages) || messages.size() == 0) continue;
    ++totals.receives;
    co_await DeleteReceived(c, url_json, messages, now, parser, totals);
  }
}

// The query-protocol consumer: ReceiveMessage and DeleteMessageBatch as form requests, the
// messages read from the XML answer.
asio::awaitable<void> ConsumeQuery(Connection& c, std::string url, Clock::time_point deadline,
                                   Totals& totals) {
  const std::string url_form = PercentEncode(url);
  const std::string receive = "Action=ReceiveMessage&Version=2012-11-05&QueueUrl=" + url_form +
                              "&MaxNumberOfMessages=10&WaitTimeSeconds=1";
  while (Clock::now() < deadline) {
    int status = co_await c.SqsForm(receive);
    const int64_t now = NowMicros();
    if (status != 200) {
      ++totals.errors;
      continue;
    }
    std::string del = "Action=DeleteMessageBatch&Version=2012-11-05&QueueUrl=" + url_form;
    int n = 0;
    const std::string_view xml = c.body();
    if (xml.find("<Message>") != std::string_view::npos) ++totals.receives;
    for (size_t at = xml.find("<Message>"); at != std::string_view::npos;
         at = xml.find("<Message>", at + 1)) {
      const size_t end = xml.find("</Message>", at);
      if (end == std::string_view::npos) break;
      const std::string_view message = xml.substr(at, end - at);
      const std::string text = XmlValue(message, "Body");
      const std::string handle = XmlValue(message, "ReceiptHandle");
      if (text.size() < 20 || handle.empty()) {
        ++totals.errors;
        continue;
      }
      totals.latencies_us.push_back(now - std::atoll(text.substr(0, 20).c_str()));
      const std::string entry = "&DeleteMessageBatchRequestEntry." + std::to_string(++n) + ".";
      del += entry + "Id=d" + std::to_string(n) + entry + "ReceiptHandle=" + PercentEncode(handle);
    }
    if (n == 0) continue;
    status = co_await c.SqsForm(del);
    if (status != 200) {
      ++totals.errors;
      continue;
    }
    totals.received += int64_t(CountOf(c.body(), "<DeleteMessageBatchResultEntry>"));
  }
}

// --- fan-out (SNS) ---

asio::awaitable<void> Publish(Connection& c, const Options& o, std::string topic_arn,
                              Clock::time_point deadline, Totals& totals) {
  const std::string padding(size_t(std::max(0, o.size - 24)), 'x');
  const std::string prefix =
      "Action=Publish&Version=2010-03-31&TopicArn=" + PercentEncode(topic_arn) + "&Message=";
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (Clock::now() < deadline) {
    if (totals.sent * o.fanout - totals.received > int64_t(o.max_backlog)) {
      co_await postbox::bench::WaitAMillisecond(pause);
      continue;
    }
    char head[32];
    std::snprintf(head, sizeof(head), "%020lld%%7C", static_cast<long long>(NowMicros()));
    int status = co_await c.Form(prefix + head + padding);
    if (status != 200) {
      ++totals.errors;
      continue;
    }
    ++totals.sent;
  }
}

// Drains its share of the queues, one short poll each in turn (long polls would stall on
// an empty queue while others fill).
asio::awaitable<void> Drain(Connection& c, std::vector<std::string> url_jsons,
                            Clock::time_point deadline, Totals& totals) {
  simdjson::dom::parser parser;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  size_t next = 0;
  int empty_in_a_row = 0;
  while (Clock::now() < deadline) {
    const std::string& url_json = url_jsons[next++ % url_jsons.size()];
    int status = co_await c.Call("ReceiveMessage",
                                 "{\"QueueUrl\":" + url_json + ",\"MaxNumberOfMessages\":10}");
    int64_t now = NowMicros();
    simdjson::dom::element doc;
    if (status != 200 || parser.parse(c.body().data(), c.body().size()).get(doc)) {
      ++totals.errors;
      continue;
    }
    simdjson::dom::array messages;
    if (doc["Messages"].get(messages) || messages.size() == 0) {
      if (++empty_in_a_row >= int(url_jsons.size())) {  // every queue empty: wait a little
        empty_in_a_row = 0;
        co_await postbox::bench::WaitAMillisecond(pause);
      }
      continue;
    }
    empty_in_a_row = 0;
    ++totals.receives;
    co_await DeleteReceived(c, url_json, messages, now, parser, totals);
  }
}

// Creates the topic and its queues, subscribes them with raw delivery, starts the loops.
asio::awaitable<bool> StartFanout(asio::io_context& io, const Options& o, tcp::endpoint endpoint,
                                  Clock::time_point deadline, Totals& totals,
                                  std::vector<std::unique_ptr<Connection>>& connections,
                                  std::function<void()> finished) {
  Connection setup(io, o, endpoint);
  const std::string topic_name = o.queue + "-fan" + std::to_string(o.fanout);
  int status = co_await setup.Form("Action=CreateTopic&Version=2010-03-31&Name=" + topic_name);
  std::string topic_arn = XmlValue(setup.body(), "TopicArn");
  if (status != 200 || topic_arn.empty()) {
    std::fprintf(stderr, "CreateTopic failed (%d): %.*s\n", status, int(setup.body().size()),
                 setup.body().data());
    co_return false;
  }
  std::vector<std::string> url_jsons;
  simdjson::dom::parser parser;
  for (int i = 0; i < o.fanout; ++i) {
    std::string name = topic_name + "-q" + std::to_string(i);
    status = co_await setup.Call("CreateQueue", "{\"QueueName\":" + Quoted(name) + "}");
    simdjson::dom::element doc;
    std::string_view url;
    if (status != 200 || parser.parse(setup.body().data(), setup.body().size()).get(doc) ||
        doc["QueueUrl"].get(url)) {
      co_return false;
    }
    url_jsons.push_back(Quoted(url));
    std::string queue_arn = "arn:aws:sqs:us-east-1:000000000000:" + name;
    status = co_await setup.Form(
        "Action=Subscribe&Version=2010-03-31&TopicArn=" + PercentEncode(topic_arn) +
        "&Protocol=sqs&Endpoint=" + PercentEncode(queue_arn) +
        "&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true");
    if (status != 200) co_return false;
  }
  for (int p = 0; p < o.producers; ++p) {
    connections.push_back(std::make_unique<Connection>(io, o, endpoint));
    asio::co_spawn(io, Publish(*connections.back(), o, topic_arn, deadline, totals),
                   [finished](std::exception_ptr) { finished(); });
  }
  for (int c = 0; c < o.consumers; ++c) {
    std::vector<std::string> share;
    for (size_t i = size_t(c); i < url_jsons.size(); i += size_t(o.consumers)) {
      share.push_back(url_jsons[i]);
    }
    if (share.empty()) share.push_back(url_jsons[size_t(c) % url_jsons.size()]);
    connections.push_back(std::make_unique<Connection>(io, o, endpoint));
    asio::co_spawn(io, Drain(*connections.back(), std::move(share), deadline, totals),
                   [finished](std::exception_ptr) { finished(); });
  }
  co_return true;
}

asio::awaitable<void> Run(asio::io_context& io, const Options& o, tcp::endpoint endpoint,
                          Totals& totals, bool& setup_failed) {
  if (o.fanout > 0) {
    std::vector<std::unique_ptr<Connection>> connections;
    int running = o.producers + o.consumers;
    auto finished = [&running, &io] {
      if (--running == 0) io.stop();
    };
    const auto deadline = Clock::now() + std::chrono::seconds(o.seconds);
    if (!co_await StartFanout(io, o, endpoint, deadline, totals, connections, finished)) {
      std::fprintf(stderr, "fan-out setup failed\n");
      setup_failed = true;
      io.stop();
      co_return;
    }
    co_await postbox::bench::WaitUntilStopped(io);
    co_return;
  }
  // Setup: create the queue (idempotent) and learn its URL.
  Connection setup(io, o, endpoint);
  std::string name = o.fifo ? o.queue + ".fifo" : o.queue;
  std::string create = "{\"QueueName\":" + Quoted(name);
  if (o.fifo) {
    create +=
        ",\"Attributes\":{\"FifoQueue\":\"true\",\"DeduplicationScope\":\"messageGroup\","
        "\"FifoThroughputLimit\":\"perMessageGroupId\"}";
  }
  create += "}";
  int status = co_await setup.Call("CreateQueue", create);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view url;
  if (status != 200 || parser.parse(setup.body().data(), setup.body().size()).get(doc) ||
      doc["QueueUrl"].get(url)) {
    std::fprintf(stderr, "CreateQueue failed (%d): %.*s\n", status, int(setup.body().size()),
                 setup.body().data());
    setup_failed = true;
    io.stop();
    co_return;
  }
  const std::string url_json = Quoted(url);
  const std::string url_text(url);
  const auto deadline = Clock::now() + std::chrono::seconds(o.seconds);

  std::vector<std::unique_ptr<Connection>> connections;
  int running = o.producers + o.consumers;
  auto finished = [&running, &io] {
    if (--running == 0) io.stop();
  };
  for (int p = 0; p < o.producers; ++p) {
    connections.push_back(std::make_unique<Connection>(io, o, endpoint));
    asio::co_spawn(io, Produce(*connections.back(), o, url_text, p, deadline, totals),
                   [finished](std::exception_ptr) { finished(); });
  }
  for (int c = 0; c < o.consumers; ++c) {
    connections.push_back(std::make_unique<Connection>(io, o, endpoint));
    auto consume = o.query ? ConsumeQuery(*connections.back(), url_text, deadline, totals)
                           : Consume(*connections.back(), url_json, deadline, totals);
    asio::co_spawn(io, std::move(consume), [finished](std::exception_ptr) { finished(); });
  }
  co_await postbox::bench::WaitUntilStopped(io);
}

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
    else if (flag == "--fifo")
      o.fifo = value == "1" || value == "true";
    else if (flag == "--groups")
      o.groups = std::max(1, std::atoi(value.c_str()));
    else if (flag == "--max-backlog")
      o.max_backlog = std::max(10, std::atoi(value.c_str()));
    else if (flag == "--fanout")
      o.fanout = std::max(0, std::atoi(value.c_str()));
    else if (flag == "--batch")
      o.batch = std::clamp(std::atoi(value.c_str()), 1, 10);
    else if (flag == "--rate")
      o.rate = std::max(0, std::atoi(value.c_str()));
    else if (flag == "--protocol" && (value == "json" || value == "query"))
      o.query = value == "query";
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.fanout > 0 && (o.rate > 0 || o.batch != 10 || o.query)) {
    std::fprintf(stderr, "--rate, --batch and --protocol apply to queue runs, not to --fanout\n");
    return 2;
  }
  return postbox::bench::RunLoad(
      o.host, o.port, o.shape(),
      [&o](asio::io_context& io, tcp::endpoint endpoint, Totals& totals, bool& setup_failed) {
        return Run(io, o, endpoint, totals, setup_failed);
      });
}
