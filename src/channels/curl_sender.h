// CurlSender: HttpSender and MailSender over libcurl's multi interface, on one thread of its
// own.
//
// Connections are reused between requests to the same endpoint (libcurl's connection cache),
// every request has a connect and a total timeout, TLS certificates are verified against the
// system's CAs (or the ones in CurlOptions::ca_file), redirects are not followed and only
// http/https URLs are allowed (a subscriber cannot make postbox read files or talk other
// protocols). A request to a URL a subscriber chose connects only to addresses the outbound
// guard allows (checked on each resolved address just before its socket is opened), and
// ignores proxy settings from the environment (the guard would see only the proxy). How many
// requests go to one endpoint at once is bounded by the caller (DeliveryOutbox). Mail goes to the
// one configured SMTP relay (CurlOptions::smtp), with STARTTLS when offered (or required), implicit
// TLS for smtps:// and AUTH when a username is set. Thread-safety: Post may be called from any
// thread; callbacks run on the sender's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "channels/http_sender.h"
#include "channels/mail_sender.h"
#include "channels/outbound_guard.h"

namespace postbox::channels {

struct CurlOptions {
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 15000;  // AWS waits 15 s for an HTTP/S subscriber's answer
  bool verify_tls = true;
  std::string ca_file;           // PEM CA certificates to verify against instead of the system's
  SmtpServer smtp;               // where Send delivers mail
  long smtp_timeout_ms = 60000;  // one whole SMTP session, connect to QUIT
  // Which addresses requests that are not operator_configured may connect to.
  OutboundPolicy outbound;
};

class CurlSender final : public HttpSender, public MailSender {
 public:
  // Outbound connections open at once, at most (libcurl queues transfers beyond it).
  static constexpr int kMaxOutboundConnections = 64;

  explicit CurlSender(CurlOptions options = {});
  ~CurlSender() override;

  void Post(OutboundRequest request, OutboundDone done) override;
  void Exchange(OutboundRequest request, ResponseDone done) override;
  void Send(OutboundMail mail, OutboundDone done) override;
  // Ends the thread; requests still queued or in flight complete with kCancelled. Idempotent.
  void Stop();
  // Connections the outbound guard refused, by address class.
  const GuardRefusals& guard_refusals() const { return refusals_; }

 private:
  struct Transfer;
  void Run();
  // A configured HTTP POST transfer; `capture` keeps the answer's body and Retry-After.
  std::unique_ptr<Transfer> NewPost(OutboundRequest request, ResponseDone done, bool capture);
  // Hands a configured transfer to the thread (or cancels it when stopping).
  void Enqueue(std::unique_ptr<Transfer> transfer);

  CurlOptions options_;
  OutboundGuard guard_;
  GuardRefusals refusals_;
  void* multi_ = nullptr;  // CURLM*, kept out of this header
  std::mutex mu_;
  std::deque<std::unique_ptr<Transfer>> queued_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace postbox::channels
