#include "channels/curl_sender.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace postbox::channels {
namespace {

// Subscribers' answers are not read: AWS only looks at the status code.
size_t DiscardBody(char*, size_t size, size_t count, void*) { return size * count; }

// The whole seconds of a Retry-After header ("Retry-After: 30"), or -1. The HTTP-date form is
// not used by the providers postbox talks to.
int ParseRetryAfter(std::string_view line) {
  constexpr std::string_view kName = "retry-after:";
  if (line.size() <= kName.size()) return -1;
  for (size_t i = 0; i < kName.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) return -1;
  }
  int seconds = -1;
  for (char c : line.substr(kName.size())) {
    if (c >= '0' && c <= '9') {
      seconds = std::min((seconds < 0 ? 0 : seconds) * 10 + (c - '0'), 86400);
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      return -1;
    }
  }
  return seconds;
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct CurlSender::Transfer {
  ResponseDone done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;          // HTTP request headers, or the mail's recipients
  std::string payload;                    // the POST body or the mail
  size_t sent = 0;                        // of a mail's payload, read by libcurl
  bool mail = false;                      // SMTP: the reply code counts even when curl failed
  char error_text[CURL_ERROR_SIZE] = {};  // libcurl's detail, e.g. "RCPT failed: 550"
  bool capture = false;                   // keep the answer (Exchange)
  std::string response;                   // its first kMaxResponseBytes
  int retry_after_seconds = -1;
  // The outbound guard, for a URL a subscriber chose (else null), and what it refused.
  const OutboundGuard* guard = nullptr;
  GuardRefusals* refusals = nullptr;
  std::string host;                     // the URL's host, as written
  std::optional<AddressClass> refused;  // the last address refused
  std::string refused_address;
  int sockets_opened = 0;        // to allowed addresses
  bool refused_at_send = false;  // a (reused) connection refused before the request

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }
};

namespace {

// SMTP addresses go inside <>: nothing that could end the command early.
bool IsSafeAddress(const std::string& address) {
  for (char c : address) {
    if (static_cast<unsigned char>(c) < 0x21 || c == '<' || c == '>' || c == 0x7f) return false;
  }
  return !address.empty();
}

// The host part of a URL as written ("hooks.example.com", "[::1]"), or empty.
std::string UrlHost(const std::string& url) {
  CURLU* parsed = curl_url();
  std::string host;
  char* part = nullptr;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
    host = part;
    curl_free(part);
  }
  curl_url_cleanup(parsed);
  return host;
}

}  // namespace

CurlSender::CurlSender(CurlOptions options)
    : options_(options), guard_(std::move(options.outbound)) {
  GlobalInitOnce();
  multi_ = curl_multi_init();
  // Outbound sockets come out of the same open-file limit as incoming connections: bounded,
  // so that the server's connection cap can leave them a known share (net/http_server.h).
  // Transfers beyond it wait inside libcurl for a connection.
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    long(kMaxOutboundConnections));
  thread_ = std::thread([this] { Run(); });
}

CurlSender::~CurlSender() {
  Stop();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void CurlSender::Post(OutboundRequest request, OutboundDone done) {
  auto t = NewPost(
      std::move(request), [done = std::move(done)](OutboundResponse r) { done(r.status, r.error); },
      /*capture=*/false);
  if (t) Enqueue(std::move(t));
}

void CurlSender::Exchange(OutboundRequest request, ResponseDone done) {
  auto t = NewPost(std::move(request), std::move(done), /*capture=*/true);
  if (t) Enqueue(std::move(t));
}

std::unique_ptr<CurlSender::Transfer> CurlSender::NewPost(OutboundRequest request,
                                                          ResponseDone done, bool capture) {
  auto t = std::make_unique<Transfer>();
  t->done = std::move(done);
  t->capture = capture;
  t->easy = curl_easy_init();
  if (t->easy == nullptr) {
    t->done({0, "cannot create a transfer", "", -1});
    return nullptr;
  }
  for (const auto& [name, value] : request.headers) {
    t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
  }
  // libcurl would add "Expect: 100-continue" to larger POSTs: one round trip less without.
  t->headers = curl_slist_append(t->headers, "Expect:");
  t->payload = std::move(request.body);
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->payload.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(t->payload.size()));
  if (capture) {
    // The answer, bounded: a provider's error is small, a hostile endpoint's may not be.
    auto keep_body = +[](char* data, size_t size, size_t count, void* user) -> size_t {
      auto* transfer = static_cast<Transfer*>(user);
      const size_t n = size * count;
      const size_t room =
          kMaxResponseBytes - std::min(kMaxResponseBytes, transfer->response.size());
      transfer->response.append(data, std::min(n, room));
      return n;
    };
    auto keep_header = +[](char* data, size_t size, size_t count, void* user) -> size_t {
      auto* transfer = static_cast<Transfer*>(user);
      const int seconds = ParseRetryAfter(std::string_view(data, size * count));
      if (seconds >= 0) transfer->retry_after_seconds = seconds;
      return size * count;
    };
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, keep_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  } else {
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &DiscardBody);
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, options_.total_timeout_ms);
  if (!request.operator_configured) {
    t->guard = &guard_;
    t->refusals = &refusals_;
    t->host = UrlHost(request.url);
    // libcurl calls this for each address it is about to connect to (after DNS resolution, for
    // every address it tries): refused addresses get no socket.
    auto open_socket =
        +[](void* user, curlsocktype purpose, curl_sockaddr* address) -> curl_socket_t {
      auto* transfer = static_cast<Transfer*>(user);
      if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
      const sockaddr* target = &address->addr;
      if (auto refused = transfer->guard->Check(transfer->host, target)) {
        transfer->refused = refused;
        transfer->refused_address = AddressText(target);
        return CURL_SOCKET_BAD;
      }
      ++transfer->sockets_opened;
      return socket(address->family, address->socktype, address->protocol);
    };
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
    // And just before the request goes out, on whatever connection carries it: one reused
    // from the cache was opened for another transfer (perhaps an operator-configured one, to
    // the same host and port) and never passed the hook above.
    auto before_request = +[](void* user, char* primary_ip, char*, int, int) -> int {
      auto* transfer = static_cast<Transfer*>(user);
      sockaddr_storage address{};
      const sockaddr* target = reinterpret_cast<const sockaddr*>(&address);
      std::optional<AddressClass> refused = AddressClass::kReserved;  // unreadable: refused
      if (ParseAddress(primary_ip, &address))
        refused = transfer->guard->Check(transfer->host, target);
      if (!refused) return CURL_PREREQFUNC_OK;
      transfer->refused = refused;
      transfer->refused_address = primary_ip;
      transfer->refused_at_send = true;
      return CURL_PREREQFUNC_ABORT;
    };
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, before_request);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t.get());
    // An empty proxy means none, whatever http_proxy says: the guard must see the real target.
    curl_easy_setopt(e, CURLOPT_PROXY, "");
  }
  return t;
}

void CurlSender::Send(OutboundMail mail, OutboundDone done) {
  const SmtpServer& smtp = options_.smtp;
  if (smtp.url.empty()) return done(0, "no SMTP relay is configured (email.smtp_url)");
  if (!IsSafeAddress(mail.from)) return done(0, "the sender address is not usable in SMTP");
  for (const std::string& to : mail.recipients) {
    if (!IsSafeAddress(to)) return done(501, "a recipient address is not usable in SMTP");
  }
  auto t = std::make_unique<Transfer>();
  t->done = [done = std::move(done)](OutboundResponse r) { done(r.status, r.error); };
  t->mail = true;
  for (const std::string& to : mail.recipients) {
    t->headers = curl_slist_append(t->headers, ("<" + to + ">").c_str());
  }
  t->easy = curl_easy_init();
  if (t->easy == nullptr) return t->done({0, "cannot create a transfer", "", -1});
  t->payload = std::move(mail.message);
  const std::string from = "<" + mail.from + ">";
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, smtp.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.c_str());  // copied by libcurl
  curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->headers);
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  // libcurl reads the mail to upload from the transfer.
  auto read_mail = +[](char* buffer, size_t size, size_t count, void* user) -> size_t {
    auto* transfer = static_cast<Transfer*>(user);
    size_t n = std::min(size * count, transfer->payload.size() - transfer->sent);
    std::memcpy(buffer, transfer->payload.data() + transfer->sent, n);
    transfer->sent += n;
    return n;
  };
  curl_easy_setopt(e, CURLOPT_READFUNCTION, read_mail);
  curl_easy_setopt(e, CURLOPT_READDATA, t.get());
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, curl_off_t(t->payload.size()));
  // With credentials, TLS is required: STARTTLS "when offered" would send the password in the
  // clear to a relay (or a man in the middle) that does not offer it.
  const bool tls_required = smtp.require_tls || !smtp.username.empty();
  curl_easy_setopt(e, CURLOPT_USE_SSL, tls_required ? long(CURLUSESSL_ALL) : long(CURLUSESSL_TRY));
  if (!smtp.username.empty()) {
    curl_easy_setopt(e, CURLOPT_USERNAME, smtp.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, smtp.password.c_str());
  }
  if (!smtp.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, smtp.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, options_.smtp_timeout_ms);
  Enqueue(std::move(t));
}

void CurlSender::Enqueue(std::unique_ptr<Transfer> transfer) {
  CURL* e = transfer->easy;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!transfer->mail && !options_.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, transfer->error_text);
  curl_easy_setopt(e, CURLOPT_PRIVATE, transfer.get());
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      transfer->done({kCancelled, "postbox is shutting down", "", -1});
      return;
    }
    queued_.push_back(std::move(transfer));
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void CurlSender::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
}

void CurlSender::Run() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  std::vector<std::unique_ptr<Transfer>> running;
  auto finish = [&](Transfer* t, int status, const std::string& error) {
    curl_multi_remove_handle(multi, t->easy);
    t->done({status, error, std::move(t->response), t->retry_after_seconds});
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
      for (auto& t : incoming) t->done({kCancelled, "postbox is shutting down", "", -1});
      while (!running.empty()) finish(running.back().get(), kCancelled, "postbox is shutting down");
      return;
    }
    for (auto& t : incoming) {
      curl_multi_add_handle(multi, t->easy);
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
      // A mail refused midway (a 550 to RCPT) fails the transfer but carries the relay's reply.
      if (msg->data.result == CURLE_OK || t->mail) {
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      }
      if (msg->data.result != CURLE_OK) {
        error = t->error_text[0] != '\0' ? t->error_text : curl_easy_strerror(msg->data.result);
      }
      // Refused only when the guard stopped every way there: when some address was allowed
      // but did not answer, it is an ordinary failure, worth a retry.
      const bool refused =
          t->refused && ((msg->data.result == CURLE_ABORTED_BY_CALLBACK && t->refused_at_send) ||
                         (msg->data.result == CURLE_COULDNT_CONNECT && t->sockets_opened == 0));
      if (refused) {
        t->refusals->For(*t->refused).Add();
        finish(
            t, kRefusedByGuard,
            "refused by the outbound guard: " + t->host + " is " + t->refused_address + ", a " +
                AddressClassName(*t->refused) +
                " address (allow it with outbound.allow_hosts or outbound.allow_private)" +
                (t->refused_at_send ? "; seen on a connection kept from an earlier request" : ""));
        continue;
      }
      if (t->mail) {
        // Accepted: the last reply may be QUIT's 221, but the mail was taken with a 250. Failed
        // after a positive reply (a TLS handshake after STARTTLS's 220): no refusal came, so it
        // counts as no answer.
        if (msg->data.result == CURLE_OK)
          status = 250;
        else if (status < 400)
          status = 0;
      }
      finish(t, int(status), error);
    }
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
}

}  // namespace postbox::channels
