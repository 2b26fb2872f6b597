#include "channels/curl_http_sender.h"

#include <curl/curl.h>

#include <mutex>
#include <vector>

namespace postbox::channels {
namespace {

// Subscribers' answers are not read: AWS only looks at the status code.
size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct CurlHttpSender::Transfer {
  OutboundRequest request;
  OutboundDone done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }
};

CurlHttpSender::CurlHttpSender(CurlOptions options) : options_(options) {
  GlobalInitOnce();
  multi_ = curl_multi_init();
  // Outbound sockets come out of the same open-file limit as incoming connections: bounded,
  // so that the server's connection cap can leave them a known share (net/http_server.h).
  // Transfers beyond it wait inside libcurl for a connection.
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    long(kMaxOutboundConnections));
  thread_ = std::thread([this] { Run(); });
}

CurlHttpSender::~CurlHttpSender() {
  Stop();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void CurlHttpSender::Post(OutboundRequest request, OutboundDone done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      transfer->done(kCancelled, "postbox is shutting down");
      return;
    }
    queued_.push_back(std::move(transfer));
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void CurlHttpSender::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
}

void CurlHttpSender::Run() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  std::vector<std::unique_ptr<Transfer>> running;
  auto finish = [&](Transfer* t, int status, const std::string& error) {
    curl_multi_remove_handle(multi, t->easy);
    t->done(status, error);
    for (auto it = running.begin(); it != running.end(); ++it) {
      if (it->get() == t) {
        running.erase(it);
        break;
      }
    }
  };
  for (;;) {
    std::deque<std::unique_ptr<Transfer>> incoming;
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      incoming.swap(queued_);
      stopping = stopping_;
    }
    if (stopping) {
      for (auto& t : incoming) t->done(kCancelled, "postbox is shutting down");
      while (!running.empty()) finish(running.back().get(), kCancelled, "postbox is shutting down");
      return;
    }
    for (auto& t : incoming) {
      t->easy = curl_easy_init();
      if (t->easy == nullptr) {
        t->done(0, "cannot create a transfer");
        continue;
      }
      for (const auto& [name, value] : t->request.headers) {
        t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
      }
      // libcurl would add "Expect: 100-continue" to larger POSTs: one round trip less without.
      t->headers = curl_slist_append(t->headers, "Expect:");
      CURL* e = t->easy;
      curl_easy_setopt(e, CURLOPT_URL, t->request.url.c_str());
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(t->request.body.size()));
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &DiscardBody);
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, options_.total_timeout_ms);
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
      if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
      curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
      curl_multi_add_handle(multi, e);
      running.push_back(std::move(t));
    }
    int still_running = 0;
    curl_multi_perform(multi, &still_running);
    int queued_messages = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued_messages)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      long status = 0;
      std::string error;
      if (msg->data.result == CURLE_OK) {
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      } else {
        error = curl_easy_strerror(msg->data.result);
      }
      finish(t, int(status), error);
    }
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
}

}  // namespace postbox::channels
