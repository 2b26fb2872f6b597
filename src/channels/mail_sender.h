// MailSender: how postbox hands a finished email to its SMTP relay. The core builds the
// message (mime_message.h) and only needs "send this, tell me the SMTP reply"; the
// implementation (CurlSender) owns the connection, TLS, AUTH and timeouts. Tests use a fake
// or a real SMTP server on 127.0.0.1.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "channels/http_sender.h"

namespace postbox::channels {

struct OutboundMail {
  std::string from;                     // the envelope sender (MAIL FROM)
  std::vector<std::string> recipients;  // the envelope recipients (RCPT TO)
  std::string message;                  // the whole RFC 5322 message, CRLF line ends
};

// Where mail goes. `url` is smtp://host:port (STARTTLS when the server offers it, or always
// with require_tls) or smtps://host:port (TLS from the first byte); an empty url means no
// relay is configured and every send fails with status 0.
struct SmtpServer {
  std::string url;
  std::string username;  // empty: no AUTH
  std::string password;
  bool require_tls = false;
  std::string ca_file;  // PEM CA certificates to verify the relay against instead of the system's
};

// `done(status, error)`: status is the relay's last SMTP reply code (250 when accepted), 0
// when no answer came (connection refused, timeout, TLS failure), or kCancelled at shutdown.
class MailSender {
 public:
  virtual ~MailSender() = default;
  // Calls `done` exactly once, possibly on another thread.
  virtual void Send(OutboundMail mail, OutboundDone done) = 0;
};

// What an SMTP reply means for a delivery: only a recipient's refusal is permanent — a 5xx to
// RCPT TO (no such mailbox: 550, 551, 553) or to the end of the message's data (552, 554: the
// content or size refused), which `error` (libcurl's "RCPT failed: 550", "DATA failed: 554",
// or a recipient address refused before sending) names. Every other failure is about the relay
// or postbox's configuration (a refused sender, relaying denied, no TLS, a bad login), which an
// operator can mend: retried like 4xx and no answer, then dead-lettered.
inline bool IsPermanentSmtpFailure(int status, std::string_view error) {
  if (status < 500 || status >= 600) return false;
  return error.find("RCPT") != std::string_view::npos ||
         error.find("DATA") != std::string_view::npos ||
         error.find("recipient") != std::string_view::npos;
}

}  // namespace postbox::channels
