#include "channels/mime_message.h"

#include <cctype>
#include <ctime>

#include "base/encoding.h"

namespace postbox::channels {
namespace {

// No CR or LF may reach a header: they would start a new one.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

bool IsPlainAscii(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return true;
}

// RFC 5322 date in UTC, e.g. "Sun, 06 Dec 2026 18:37:19 +0000" (C locale names).
std::string MailDate(int64_t epoch_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t seconds = epoch_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

// Base64 in lines of 76 characters, as MIME asks.
std::string Base64Lines(std::string_view bytes) {
  std::string encoded = Base64Encode(bytes);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
  for (size_t i = 0; i < encoded.size(); i += 76) {
    out.append(encoded, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string Join(const std::vector<std::string>& addresses) {
  std::string out;
  for (const std::string& a : addresses) {
    if (!out.empty()) out += ", ";
    out += EncodeAddress(a);
  }
  return out;
}

// MIME text has CRLF line breaks, also inside base64 (RFC 2046): bare LFs become CRLF.
std::string CrlfLines(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

std::string Part(const std::string& type, const std::string& body) {
  return "Content-Type: " + type + "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         Base64Lines(CrlfLines(body));
}

}  // namespace

std::string EncodeHeaderText(std::string_view utf8) {
  std::string text = OneLine(utf8);
  if (IsPlainAscii(text)) return text;
  // Encoded words are at most 75 characters and their lines at most 76 (RFC 2047): 39 bytes of
  // text each (52 in base64, 64 with the markers, so "Subject: " fits before the first), cut
  // only between UTF-8 characters so each word decodes on its own.
  constexpr size_t kBytesPerWord = 39;
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + kBytesPerWord);
    while (end < text.size() && end > start + 1 &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(std::string_view(text).substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string EncodeAddress(std::string_view address) {
  std::string text = OneLine(address);
  if (IsPlainAscii(text)) return text;
  size_t open = text.rfind('<');
  if (open == std::string::npos) return text;  // a bare non-ASCII address: the relay decides
  std::string name = text.substr(0, open);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  return EncodeHeaderText(name) + " " + text.substr(open);
}

std::string NamedAddress(std::string_view name, std::string_view address) {
  std::string text = OneLine(name);
  bool plain = true;
  for (char c : text) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == ' ');
  if (!plain && IsPlainAscii(text)) {
    std::string quoted = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    text = quoted + "\"";
  }
  return text + " <" + OneLine(address) + ">";
}

bool IsValidEmailAddress(std::string_view address) {
  if (address.empty() || address.size() > 254) return false;
  const size_t at = address.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= address.size()) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : address) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"') return false;
  }
  return address[at + 1] != '.' && address.back() != '.';
}

std::string BareAddress(std::string_view address) {
  size_t open = address.rfind('<');
  size_t close = address.rfind('>');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::string(address);
  }
  return std::string(address.substr(open + 1, close - open - 1));
}

std::string BuildMimeMessage(const MailContent& content) {
  std::string out;
  out += "From: " + EncodeAddress(content.from) + "\r\n";
  if (!content.to.empty()) out += "To: " + Join(content.to) + "\r\n";
  if (!content.cc.empty()) out += "Cc: " + Join(content.cc) + "\r\n";
  if (!content.reply_to.empty()) out += "Reply-To: " + Join(content.reply_to) + "\r\n";
  out += "Subject: " + EncodeHeaderText(content.subject) + "\r\n";
  out += "Date: " + MailDate(content.date_ms) + "\r\n";
  out += "Message-ID: <" + OneLine(content.message_id) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (content.html.empty() || content.text.empty()) {
    const bool html = !content.html.empty();
    return out + Part(html ? "text/html" : "text/plain", html ? content.html : content.text);
  }
  // The boundary cannot occur in base64 text ('=' and '_' mixed this way never appear there).
  const std::string boundary = "=_postbox_" + HexEncode(RandomBytes(12));
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + Part("text/plain", content.text);
  out += "--" + boundary + "\r\n" + Part("text/html", content.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace postbox::channels
